#include "station/store/sqlite_reservation.h"

namespace station::store::sqlite {

template <typename... Values>
Result<bool> SqliteReservationRows::Query(sqlite3_stmt*& stmt, const char* sql, const char* doing,
                                          const Values&... values) {
  ST_ASSIGN_OR_RETURN(stmt, statements_.Get(sql));
  Bind(stmt, values...);
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return StorageError(db_, doing);
}

Result<std::optional<ReservationRows::Issued>> SqliteReservationRows::KeyIssued(const std::string& spki_sha256) {
  sqlite3_stmt* stmt = nullptr;
  ST_ASSIGN_OR_RETURN(bool found, Query(stmt, "SELECT seq FROM issuance WHERE spki_sha256 = ?1 LIMIT 1",
                                        "looking up a public key", spki_sha256));
  if (!found) return std::optional<Issued>();
  return std::optional<Issued>(Issued{static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)), ""});
}

Result<std::optional<ReservationRows::Issued>> SqliteReservationRows::DeviceIssued(const std::string& profile,
                                                                                   const std::string& device_id) {
  sqlite3_stmt* stmt = nullptr;
  ST_ASSIGN_OR_RETURN(bool found, Query(stmt, "SELECT seq FROM issuance WHERE profile = ?1 AND device_id = ?2 LIMIT 1",
                                        "looking up a device", profile, device_id));
  if (!found) return std::optional<Issued>();
  return std::optional<Issued>(Issued{static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)), ""});
}

Result<std::optional<std::string>> SqliteReservationRows::OpenLot(const std::string& profile,
                                                                  const std::string& device_id) {
  sqlite3_stmt* stmt = nullptr;
  ST_ASSIGN_OR_RETURN(bool found, Query(stmt,
                                        "SELECT d.lot FROM lot_device d JOIN lot l ON l.name = d.lot "
                                        "WHERE d.profile = ?1 AND d.device_id = ?2 AND l.state = 'open' LIMIT 1",
                                        "looking up a lot", profile, device_id));
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(ColumnText(stmt, 0));
}

Result<std::optional<ReservationRows::MintedCode>> SqliteReservationRows::FindCode(const std::string& code_sha256) {
  sqlite3_stmt* stmt = nullptr;
  ST_ASSIGN_OR_RETURN(bool found, Query(stmt,
                                        "SELECT profile, expires_unix_ms, used_seq FROM registration_code "
                                        "WHERE code_sha256 = ?1",
                                        "looking up a registration code", code_sha256));
  if (!found) return std::optional<MintedCode>();
  MintedCode code{ColumnText(stmt, 0), sqlite3_column_int64(stmt, 1), std::nullopt};
  if (sqlite3_column_type(stmt, 2) != SQLITE_NULL)
    code.used_by = Issued{static_cast<uint64_t>(sqlite3_column_int64(stmt, 2)), ""};
  return std::optional<MintedCode>(std::move(code));
}

Status SqliteReservationRows::UseCode(const std::string& code_sha256, uint64_t seq) {
  sqlite3_stmt* stmt = nullptr;
  ST_ASSIGN_OR_RETURN(bool row, Query(stmt,
                                      "UPDATE registration_code SET used_seq = ?2 "
                                      "WHERE code_sha256 = ?1 AND used_seq IS NULL",
                                      "using up a registration code", code_sha256, seq));
  (void)row;
  return {};
}

Result<std::optional<ReservationRows::ReissueApproval>> SqliteReservationRows::LiveReissueApproval(
    const std::string& profile, const std::string& device_id, int64_t now_unix_ms) {
  sqlite3_stmt* stmt = nullptr;
  ST_ASSIGN_OR_RETURN(bool found, Query(stmt,
                                        "SELECT rowid, approved_by FROM reissue_approval WHERE profile = ?1 AND "
                                        "device_id = ?2 AND used_seq IS NULL AND expires_unix_ms > ?3 "
                                        "ORDER BY rowid LIMIT 1",
                                        "looking up a reissue approval", profile, device_id, now_unix_ms));
  if (!found) return std::optional<ReissueApproval>();
  return std::optional<ReissueApproval>(ReissueApproval{sqlite3_column_int64(stmt, 0), ColumnText(stmt, 1)});
}

Status SqliteReservationRows::UseReissueApproval(int64_t id, uint64_t seq) {
  sqlite3_stmt* stmt = nullptr;
  ST_ASSIGN_OR_RETURN(bool row, Query(stmt, "UPDATE reissue_approval SET used_seq = ?2 WHERE rowid = ?1",
                                      "using up a reissue approval", id, seq));
  (void)row;
  return {};
}

}  // namespace station::store::sqlite
