// What officers change in the device registry: production lots, registration
// codes and reissue approvals. The tables live in the audit database (schema
// in audit/sqlite.cc); the issuance path reads them through audit/claims.h.
// Each change is one transaction, safe while the server runs.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/policy/profile.h"

namespace station::registry {

// Bounds on officer input.
constexpr size_t kMaxLotDevices = 1000000;
constexpr size_t kMaxLotFileBytes = 64u << 20;
constexpr size_t kMaxCodesPerMint = 100000;

// Device ids from a CSV file: the first column of each line; a first line
// "device_id,..." is a header; blank lines and lines starting with '#' are
// skipped. INVALID_ARGUMENT LOT_FILE_INVALID names the line of a bad id
// (1 to 64 printable ASCII characters) or a repeated one.
Result<std::vector<std::string>> ReadLotCsv(const std::string& path);

struct Lot {
  std::string name;
  std::string profile;
  std::vector<std::string> device_ids;
  std::string source;       // the file it came from
  std::string imported_by;  // who ran the import
};

// FAILED_PRECONDITION PROFILE_MISMATCH unless `profile` uses `authorization`
// (a lot or codes for it would have no effect).
Status RequireAuthorization(const policy::Profile& profile, policy::Authorization authorization);

// INVALID_ARGUMENT LOT_INVALID for a lot name that is not 1 to 64 printable
// characters other than '+', or a device id that is not 1 to 64 printable.
Status CheckLotName(const std::string& name);
Status CheckLotId(const std::string& id);

// A lot's ids as they arrive, kept under `upload_id` (lot_upload) in a
// transaction of their own: LOT_INVALID for a bad id or one already staged.
Status StageLotIds(sqlite3* db, const std::string& upload_id, const std::vector<std::string>& ids);
// Removes an upload's staged ids (one given up), or every upload's ("" at start).
Status DropLotUpload(sqlite3* db, const std::string& upload_id);

// Every change below runs inside the transaction of the officer record that
// makes it (officer/registry_desk.h), which commits to the rows (audit/state.h):
// the registry holds no row that no record vouches for.
//
// ImportLotIn: the lot (its ids are those staged under `upload_id`, which
// it moves); ALREADY_EXISTS LOT_EXISTS when the name is taken.
// CloseLotIn: NOT_FOUND LOT_NOT_FOUND; a closed lot authorizes no more devices.
// It answers the lot's profile.
Status ImportLotIn(sqlite3* db, const Lot& lot, const std::string& upload_id, int64_t now_unix_ms);
Result<std::string> CloseLotIn(sqlite3* db, const std::string& name);

struct LotSummary {
  std::string name, profile, state;
  int64_t devices = 0;
  int64_t issued = 0;  // devices of the lot with a certificate of its profile
};
Result<std::vector<LotSummary>> ListLots(const std::string& db_path);

struct MintedCode {
  std::string code;  // shown once, never stored
  int64_t expires_unix_ms = 0;
};

// Fresh codes (128 bits each, base32; USAGE unless 1 <= count <=
// kMaxCodesPerMint), then, in the minting record's transaction, their hashes
// stored under `batch` (only the SHA-256 of a code is kept).
Result<std::vector<MintedCode>> NewCodes(size_t count, int64_t expires_unix_ms);
Status InsertCodes(sqlite3* db, const std::string& profile, const std::string& batch,
                   const std::vector<MintedCode>& codes);

// Lets one more certificate be issued for a device under a one-per-device
// profile, within `ttl_seconds`: the officers' approval record `seq` made it.
Status InsertReissueApproval(sqlite3* db, const std::string& profile, const std::string& device_id,
                             const std::string& approved_by, int64_t now_unix_ms, int64_t ttl_seconds, uint64_t seq);

}  // namespace station::registry
