#include "station/store/store.h"

namespace station::store {

Error ReadOnlyStore(const char* doing) {
  return MakeError(Code::kFailedPrecondition, "STORE_READ_ONLY", std::string(doing) + ": the store is open read-only");
}

}  // namespace station::store
