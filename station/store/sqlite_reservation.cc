#include "station/store/sqlite_reservation.h"

#include "station/store/sqlite_db.h"

namespace station::store::sqlite {
namespace {

constexpr const char* kKeySql = "SELECT seq FROM issuance WHERE spki_sha256 = ?1 LIMIT 1";
constexpr const char* kDeviceSql = "SELECT seq FROM issuance WHERE profile = ?1 AND device_id = ?2 LIMIT 1";
constexpr const char* kLotSql =
    "SELECT d.lot FROM lot_device d JOIN lot l ON l.name = d.lot "
    "WHERE d.profile = ?1 AND d.device_id = ?2 AND l.state = 'open' LIMIT 1";
constexpr const char* kCodeSql = "SELECT profile, expires_unix_ms, used_seq FROM registration_code WHERE code_sha256 = ?1";
constexpr const char* kUseCodeSql = "UPDATE registration_code SET used_seq = ?2 WHERE code_sha256 = ?1 AND used_seq IS NULL";
constexpr const char* kApprovalSql =
    "SELECT rowid, approved_by FROM reissue_approval "
    "WHERE profile = ?1 AND device_id = ?2 AND used_seq IS NULL AND expires_unix_ms > ?3 ORDER BY rowid LIMIT 1";
constexpr const char* kUseApprovalSql = "UPDATE reissue_approval SET used_seq = ?2 WHERE rowid = ?1";

Error NotAuthorized(const std::string& message) {
  return MakeError(Code::kPermissionDenied, "DEVICE_NOT_AUTHORIZED", message);
}

// Steps a query; a row, no row, or the storage error.
Result<bool> StepRow(sqlite3* db, sqlite3_stmt* stmt, const char* doing) {
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return StorageError(db, doing);
}

Status StepDone(sqlite3* db, sqlite3_stmt* stmt, const char* doing) {
  if (sqlite3_step(stmt) != SQLITE_DONE) return StorageError(db, doing);
  return {};
}

Result<std::string> CheckCode(StatementCache& statements, sqlite3* db, const policy::Reservation& c, int64_t now,
                              uint64_t use_up_as) {
  ST_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, statements.Get(kCodeSql));
  BindText(stmt, 1, c.code_sha256);
  ST_ASSIGN_OR_RETURN(bool found, StepRow(db, stmt, "looking up a registration code"));
  if (!found || ColumnText(stmt, 0) != c.profile)
    return NotAuthorized("the registration code is not one minted for profile '" + c.profile + "'");
  if (sqlite3_column_type(stmt, 2) != SQLITE_NULL)
    return NotAuthorized("the registration code was used already (audit seq " +
                         std::to_string(sqlite3_column_int64(stmt, 2)) + "); a code works once");
  if (sqlite3_column_int64(stmt, 1) <= now) return NotAuthorized("the registration code has expired");
  if (use_up_as > 0) {
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* use, statements.Get(kUseCodeSql));
    BindText(use, 1, c.code_sha256);
    sqlite3_bind_int64(use, 2, static_cast<sqlite3_int64>(use_up_as));
    ST_RETURN_IF_ERROR(StepDone(db, use, "using up a registration code"));
  }
  return "code:" + c.code_sha256.substr(0, 16);
}

Result<std::string> CheckDevice(StatementCache& statements, sqlite3* db, const policy::Reservation& c, int64_t now,
                                uint64_t use_up_as) {
  ST_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, statements.Get(kDeviceSql));
  BindText(stmt, 1, c.profile);
  BindText(stmt, 2, c.device_id);
  ST_ASSIGN_OR_RETURN(bool issued, StepRow(db, stmt, "looking up a device"));
  if (!issued) return std::string();
  uint64_t earlier = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
  ST_ASSIGN_OR_RETURN(sqlite3_stmt* approval, statements.Get(kApprovalSql));
  BindText(approval, 1, c.profile);
  BindText(approval, 2, c.device_id);
  sqlite3_bind_int64(approval, 3, now);
  ST_ASSIGN_OR_RETURN(bool approved, StepRow(db, approval, "looking up a reissue approval"));
  if (!approved)
    return MakeError(Code::kFailedPrecondition, "DUPLICATE_DEVICE",
                     "device '" + c.device_id + "' already has a certificate of profile '" + c.profile +
                         "' (audit seq " + std::to_string(earlier) + "); a second one needs an officer's approval");
  int64_t rowid = sqlite3_column_int64(approval, 0);
  std::string note = "+reissue:" + ColumnText(approval, 1);
  if (use_up_as > 0) {
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* use, statements.Get(kUseApprovalSql));
    sqlite3_bind_int64(use, 1, rowid);
    sqlite3_bind_int64(use, 2, static_cast<sqlite3_int64>(use_up_as));
    ST_RETURN_IF_ERROR(StepDone(db, use, "using up a reissue approval"));
  }
  return note;
}

}  // namespace

Result<std::string> CheckReservation(StatementCache& statements, sqlite3* db, const policy::Reservation& c, int64_t now,
                                uint64_t use_up_as) {
  ST_ASSIGN_OR_RETURN(sqlite3_stmt* key, statements.Get(kKeySql));
  BindText(key, 1, c.spki_sha256);
  ST_ASSIGN_OR_RETURN(bool key_seen, StepRow(db, key, "looking up a public key"));
  if (key_seen)
    return MakeError(Code::kFailedPrecondition, "DUPLICATE_KEY",
                     "this public key was certified before (audit seq " + std::to_string(sqlite3_column_int64(key, 0)) +
                         "); every device must generate its own key");
  std::string authorization;
  if (c.lot_required) {
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* lot, statements.Get(kLotSql));
    BindText(lot, 1, c.profile);
    BindText(lot, 2, c.device_id);
    ST_ASSIGN_OR_RETURN(bool on_lot, StepRow(db, lot, "looking up a lot"));
    if (!on_lot)
      return NotAuthorized("device '" + c.device_id + "' is not on an open lot of profile '" + c.profile + "'");
    authorization = "lot:" + ColumnText(lot, 0);
  }
  if (c.code_required) {
    if (c.code_sha256.empty())
      return NotAuthorized("profile '" + c.profile + "' needs a registration code in attributes[\"registration_code\"]");
    ST_ASSIGN_OR_RETURN(authorization, CheckCode(statements, db, c, now, use_up_as));
  }
  if (c.one_per_device) {
    ST_ASSIGN_OR_RETURN(std::string reissue, CheckDevice(statements, db, c, now, use_up_as));
    authorization += reissue;
  }
  return authorization;
}

}  // namespace station::store::sqlite
