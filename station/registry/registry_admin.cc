#include "station/registry/registry_admin.h"

#include <openssl/rand.h>

#include <set>
#include <sstream>
#include <string_view>

#include "station/audit/claims.h"
#include "station/audit/sqlite.h"
#include "station/base/files.h"
#include "station/base/text.h"
#include "station/issuance/request.h"

namespace station::registry {
namespace {

using audit::BindText;

Error LotFileError(const std::string& path, size_t line, const std::string& why) {
  return MakeError(Code::kInvalidArgument, "LOT_FILE_INVALID", path + ":" + std::to_string(line) + ": " + why);
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Status Step(sqlite3* db, sqlite3_stmt* stmt, const char* doing) {
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE) return audit::StorageError(db, doing);
  return {};
}

// Crockford's base32: no I, L, O, U, so a code read aloud or typed survives.
std::string Base32(const uint8_t* data, size_t len) {
  static const char* kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

}  // namespace

Result<std::vector<std::string>> ReadLotCsv(const std::string& path) {
  ST_ASSIGN_OR_RETURN(std::string text, base::ReadFile(path, kMaxLotFileBytes));
  std::vector<std::string> ids;
  std::set<std::string> seen;
  std::istringstream in(text);
  std::string raw;
  size_t line = 0;
  while (std::getline(in, raw)) {
    ++line;
    std::string row = Trim(raw);
    if (row.empty() || row[0] == '#') continue;
    std::string id = Trim(row.substr(0, row.find(',')));
    if (ids.empty() && seen.empty() && id == "device_id") continue;  // header
    if (id.empty() || id.size() > 64) return LotFileError(path, line, "a device id has 1 to 64 characters");
    if (!PrintableAscii(id)) return LotFileError(path, line, "device ids are printable ASCII");
    if (!seen.insert(id).second) return LotFileError(path, line, "device id '" + id + "' appears twice");
    if (ids.size() == kMaxLotDevices) return LotFileError(path, line, "a lot holds at most 1,000,000 devices");
    ids.push_back(id);
  }
  if (ids.empty()) return MakeError(Code::kInvalidArgument, "LOT_FILE_INVALID", path + ": no device ids");
  return ids;
}

Status RequireAuthorization(const policy::Profile& profile, policy::Authorization authorization) {
  if (profile.authorization == authorization) return {};
  return MakeError(Code::kFailedPrecondition, "PROFILE_MISMATCH",
                   "profile '" + profile.name + "' has authorization = \"" +
                       policy::AuthorizationName(profile.authorization) + "\", not \"" +
                       policy::AuthorizationName(authorization) + "\"; this would have no effect");
}

Status CheckLotName(const std::string& name) {
  // No '+': an issuance's authorization reads "lot:NAME+reissue:OFFICERS".
  if (name.empty() || name.size() > 64 || !PrintableAscii(name) || name.find('+') != std::string::npos)
    return MakeError(Code::kInvalidArgument, "LOT_INVALID", "a lot name has 1 to 64 printable characters other than '+'");
  return {};
}

Status CheckLotId(const std::string& id) {
  if (id.empty() || id.size() > issuance::kMaxDeviceIdBytes || !PrintableAscii(id))
    return MakeError(Code::kInvalidArgument, "LOT_INVALID", "device ids have 1 to 64 printable characters");
  return {};
}

Status StageLotIds(sqlite3* db, const std::string& upload_id, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) ST_RETURN_IF_ERROR(CheckLotId(id));
  ST_RETURN_IF_ERROR(audit::Exec(db, "BEGIN IMMEDIATE"));
  auto staged = [&]() -> Status {
    ST_ASSIGN_OR_RETURN(audit::Stmt insert,
                        audit::Prepare(db, "INSERT INTO lot_upload (upload_id, device_id) VALUES (?1, ?2)"));
    for (const std::string& id : ids) {
      BindText(insert.get(), 1, upload_id);
      BindText(insert.get(), 2, id);
      const int rc = sqlite3_step(insert.get());
      sqlite3_reset(insert.get());
      if (rc == SQLITE_CONSTRAINT)
        return MakeError(Code::kInvalidArgument, "LOT_INVALID", "device id '" + id + "' appears twice");
      if (rc != SQLITE_DONE) return audit::StorageError(db, "keeping a lot's device ids");
    }
    return {};
  }();
  if (!staged.ok()) {
    (void)audit::Exec(db, "ROLLBACK");  // the first error is the one to report
    return staged;
  }
  return audit::Exec(db, "COMMIT");
}

Status DropLotUpload(sqlite3* db, const std::string& upload_id) {
  ST_ASSIGN_OR_RETURN(audit::Stmt drop, audit::Prepare(db, "DELETE FROM lot_upload WHERE ?1 = '' OR upload_id = ?1"));
  BindText(drop.get(), 1, upload_id);
  return Step(db, drop.get(), "dropping a lot's staged ids");
}

Status ImportLotIn(sqlite3* db, const Lot& lot, const std::string& upload_id, int64_t now_unix_ms) {
  ST_ASSIGN_OR_RETURN(audit::Stmt exists, audit::Prepare(db, "SELECT 1 FROM lot WHERE name = ?1"));
  BindText(exists.get(), 1, lot.name);
  if (sqlite3_step(exists.get()) == SQLITE_ROW)
    return MakeError(Code::kAlreadyExists, "LOT_EXISTS", "lot '" + lot.name + "' exists already; choose another --lot name");
  ST_ASSIGN_OR_RETURN(audit::Stmt insert_lot,
                      audit::Prepare(db, "INSERT INTO lot (name, profile, state, devices, source, imported_by, "
                                         "imported_unix_ms) VALUES (?1, ?2, 'open', "
                                         "(SELECT COUNT(*) FROM lot_upload WHERE upload_id = ?3), ?4, ?5, ?6)"));
  BindText(insert_lot.get(), 1, lot.name);
  BindText(insert_lot.get(), 2, lot.profile);
  BindText(insert_lot.get(), 3, upload_id);
  BindText(insert_lot.get(), 4, lot.source);
  BindText(insert_lot.get(), 5, lot.imported_by);
  sqlite3_bind_int64(insert_lot.get(), 6, now_unix_ms);
  ST_RETURN_IF_ERROR(Step(db, insert_lot.get(), "recording the lot"));
  ST_ASSIGN_OR_RETURN(audit::Stmt move,
                      audit::Prepare(db, "INSERT INTO lot_device (profile, device_id, lot) "
                                         "SELECT ?1, device_id, ?2 FROM lot_upload WHERE upload_id = ?3"));
  BindText(move.get(), 1, lot.profile);
  BindText(move.get(), 2, lot.name);
  BindText(move.get(), 3, upload_id);
  ST_RETURN_IF_ERROR(Step(db, move.get(), "recording a lot's devices"));
  return DropLotUpload(db, upload_id);
}

Result<std::string> CloseLotIn(sqlite3* db, const std::string& name) {
  ST_ASSIGN_OR_RETURN(audit::Stmt close,
                      audit::Prepare(db, "UPDATE lot SET state = 'closed' WHERE name = ?1 RETURNING profile"));
  BindText(close.get(), 1, name);
  int rc = sqlite3_step(close.get());
  if (rc == SQLITE_DONE) return MakeError(Code::kNotFound, "LOT_NOT_FOUND", "there is no lot '" + name + "'");
  if (rc != SQLITE_ROW) return audit::StorageError(db, "closing the lot");
  std::string profile = audit::ColumnText(close.get(), 0);
  if (sqlite3_step(close.get()) != SQLITE_DONE) return audit::StorageError(db, "closing the lot");
  return profile;
}

Result<std::vector<LotSummary>> ListLots(const std::string& db_path) {
  ST_ASSIGN_OR_RETURN(audit::Db db, audit::OpenDb(db_path, true));
  ST_ASSIGN_OR_RETURN(audit::Stmt list,
                      audit::Prepare(db.get(),
                                     "SELECT l.name, l.profile, l.state, l.devices, "
                                     "(SELECT COUNT(DISTINCT d.device_id) FROM lot_device d JOIN issuance i "
                                     "ON i.profile = d.profile AND i.device_id = d.device_id WHERE d.lot = l.name) "
                                     "FROM lot l ORDER BY l.imported_unix_ms, l.name"));
  std::vector<LotSummary> out;
  int rc;
  while ((rc = sqlite3_step(list.get())) == SQLITE_ROW)
    out.push_back({audit::ColumnText(list.get(), 0), audit::ColumnText(list.get(), 1), audit::ColumnText(list.get(), 2),
                   sqlite3_column_int64(list.get(), 3), sqlite3_column_int64(list.get(), 4)});
  if (rc != SQLITE_DONE) return audit::StorageError(db.get(), "listing lots");
  return out;
}

Result<std::vector<MintedCode>> NewCodes(size_t count, int64_t expires_unix_ms) {
  if (count == 0 || count > kMaxCodesPerMint)
    return MakeError(Code::kInvalidArgument, "USAGE", "--count must be between 1 and 100000");
  std::vector<MintedCode> codes;
  for (size_t i = 0; i < count; ++i) {
    uint8_t raw[16];
    if (RAND_priv_bytes(raw, sizeof raw) != 1)
      return MakeError(Code::kInternal, "RANDOM_FAILED", "the random generator failed: " + OpenSslErrors());
    codes.push_back({Base32(raw, sizeof raw), expires_unix_ms});
  }
  return codes;
}

Status InsertCodes(sqlite3* db, const std::string& profile, const std::string& batch,
                   const std::vector<MintedCode>& codes) {
  ST_ASSIGN_OR_RETURN(audit::Stmt insert,
                      audit::Prepare(db, "INSERT INTO registration_code (code_sha256, profile, batch, expires_unix_ms) "
                                         "VALUES (?1, ?2, ?3, ?4)"));
  for (const MintedCode& code : codes) {
    std::string hash = audit::CodeHash(code.code);
    BindText(insert.get(), 1, hash);
    BindText(insert.get(), 2, profile);
    BindText(insert.get(), 3, batch);
    sqlite3_bind_int64(insert.get(), 4, code.expires_unix_ms);
    ST_RETURN_IF_ERROR(Step(db, insert.get(), "recording a registration code"));
  }
  return {};
}

Status InsertReissueApproval(sqlite3* db, const std::string& profile, const std::string& device_id,
                             const std::string& approved_by, int64_t now_unix_ms, int64_t ttl_seconds, uint64_t seq) {
  ST_ASSIGN_OR_RETURN(audit::Stmt insert,
                      audit::Prepare(db, "INSERT INTO reissue_approval (profile, device_id, approved_by, "
                                         "created_unix_ms, expires_unix_ms, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  BindText(insert.get(), 1, profile);
  BindText(insert.get(), 2, device_id);
  BindText(insert.get(), 3, approved_by);
  sqlite3_bind_int64(insert.get(), 4, now_unix_ms);
  sqlite3_bind_int64(insert.get(), 5, now_unix_ms + ttl_seconds * 1000);
  sqlite3_bind_int64(insert.get(), 6, static_cast<sqlite3_int64>(seq));
  return Step(db, insert.get(), "recording the approval");
}

}  // namespace station::registry
