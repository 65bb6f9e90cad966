#include "station/policy/reservation.h"

#include "station/base/bytes.h"

namespace station::policy {

std::string CodeHash(const std::string& code) { return Hex(Sha256(code)); }

}  // namespace station::policy
