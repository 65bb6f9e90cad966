#include "station/store/store.h"

namespace station::store {

Error ReadOnlyStore(const char* doing) {
  return MakeError(Code::kFailedPrecondition, "STORE_READ_ONLY", std::string(doing) + ": the store is open read-only");
}

std::vector<Result<Store::Look>> Store::LookBeforeSigning(const std::vector<IssuanceAsked>& requests,
                                                          int64_t now_unix_ms) {
  std::vector<Result<Look>> out;
  for (const IssuanceAsked& r : requests) {
    Look look;
    auto earlier = FindByRequest(r.caller, r.request_id);
    if (!earlier.ok()) {
      out.push_back(earlier.error());
      continue;
    }
    look.earlier = std::move(*earlier);
    if (!look.earlier) look.authorization = CheckReservation(r.reservation, now_unix_ms);
    out.push_back(std::move(look));
  }
  return out;
}

}  // namespace station::store
