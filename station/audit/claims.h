// What one issuance claims in the registry, and the checks that guard it:
// a public key is certified once; a one-per-device profile certifies a device
// once unless an officer approved a reissue; a lot profile certifies only
// devices on an open lot; a registration code is good once, before it expires.
//
// The same function runs twice: on a worker before signing (check only, so
// doomed requests never reach the token) and on the audit writer inside the
// transaction that appends the record (authoritative; it also uses up the
// code or approval), so two racing requests can never both pass.
#pragma once

#include <functional>
#include <string>

#include "station/audit/sqlite.h"

namespace station::audit {

struct Claims {
  std::string profile;
  std::string device_id;
  std::string spki_sha256;
  bool one_per_device = false;
  bool lot_required = false;
  bool code_required = false;
  std::string code_sha256;  // the registration code the request carried; "" for none
};

// Gives the prepared statement for an SQL constant, reset and unbound.
using StatementSource = std::function<Result<sqlite3_stmt*>(const char* sql)>;

// FAILED_PRECONDITION DUPLICATE_KEY or DUPLICATE_DEVICE, PERMISSION_DENIED
// DEVICE_NOT_AUTHORIZED, or a storage error. On success returns how the device
// was authorized ("lot:L1", "code:HASH16", "+reissue:officer-1", or "").
// With `use_up_as` > 0 it marks the code or approval used by that audit seq.
Result<std::string> CheckClaims(const StatementSource& statements, sqlite3* db, const Claims& claims,
                                int64_t now_unix_ms, uint64_t use_up_as);

// Lowercase hex SHA-256 of a registration code: all the registry keeps of it.
std::string CodeHash(const std::string& code);

}  // namespace station::audit
