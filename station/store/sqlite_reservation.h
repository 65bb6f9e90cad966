// A reservation (policy/reservation.h) checked against the registry in
// SQLite (store/ only): a public key is certified once; a one-per-device
// profile certifies a device once unless an officer approved a reissue; a lot
// profile certifies only devices on an open lot; a registration code is good
// once, before it expires.
//
// The same function runs twice: on a worker before signing (check only, so
// doomed requests never reach the token) and in the batch that appends the
// record (authoritative; it also uses up the code or approval), so two racing
// requests can never both pass.
#pragma once

#include <sqlite3.h>

#include <string>

#include "station/base/error.h"
#include "station/policy/reservation.h"
#include "station/store/sqlite_db.h"

namespace station::store::sqlite {

// FAILED_PRECONDITION DUPLICATE_KEY or DUPLICATE_DEVICE, PERMISSION_DENIED
// DEVICE_NOT_AUTHORIZED, or a storage error. On success returns how the device
// was authorized ("lot:L1", "code:HASH16", "+reissue:officer-1", or "").
// With `use_up_as` > 0 it marks the code or approval used by that audit seq.
Result<std::string> CheckReservation(StatementCache& statements, sqlite3* db,
                                     const policy::Reservation& reservation, int64_t now_unix_ms, uint64_t use_up_as);

}  // namespace station::store::sqlite
