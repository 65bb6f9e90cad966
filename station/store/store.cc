#include "station/store/store.h"

namespace station::store {

Error ReadOnlyStore(const char* doing) {
  return MakeError(Code::kFailedPrecondition, "STORE_READ_ONLY", std::string(doing) + ": the store is open read-only");
}

Result<Store::Look> Store::LookBeforeSigning(const std::string& caller, const std::string& request_id,
                                             const policy::Reservation& reservation, int64_t now_unix_ms) {
  Look look;
  ST_ASSIGN_OR_RETURN(look.earlier, FindByRequest(caller, request_id));
  if (!look.earlier) look.authorization = CheckReservation(reservation, now_unix_ms);
  return look;
}

}  // namespace station::store
