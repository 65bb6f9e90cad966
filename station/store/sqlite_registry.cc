#include "station/store/sqlite_registry.h"

#include "station/store/sqlite_db.h"

namespace station::store::sqlite {

Status ReplaceCaSet(sqlite3* db, const std::string& issuer, const std::vector<CaRow>& rows, uint64_t seq) {
  ST_RETURN_IF_ERROR(Run(db, "DELETE FROM ca_state WHERE issuer = ?1", "updating the CA set", issuer));
  ST_ASSIGN_OR_RETURN(Stmt insert, Prepare(db, "INSERT INTO ca_state (issuer, key_id, key_uri, certificate_pem, "
                                               "state, activate_at_unix_ms, changed_seq) "
                                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  for (const CaRow& row : rows) {
    Bind(insert.get(), issuer, row.key_id, row.key_uri, row.certificate_pem, row.state, row.activate_at_unix_ms, seq);
    if (StepOnce(insert.get()) != SQLITE_DONE) return StorageError(db, "updating the CA set");
  }
  return {};
}

Status SetProfileLines(sqlite3* db, const std::string& profile, const std::string& lines, uint64_t seq) {
  return Run(db,
             "INSERT INTO profile_lines (profile, lines, changed_seq) VALUES (?1, ?2, ?3) "
             "ON CONFLICT (profile) DO UPDATE SET lines = ?2, changed_seq = ?3",
             "changing a profile's lines", profile, lines, seq);
}

Result<std::vector<std::string>> AddApproval(sqlite3* db, const std::string& action_key, const std::string& officer,
                                             int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) {
  ST_RETURN_IF_ERROR(Run(db,
                         "INSERT INTO approval (action_key, officer, created_unix_ms, expires_unix_ms, seq) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)",
                         "recording an approval", action_key, officer, now_unix_ms, now_unix_ms + ttl_s * 1000, seq));
  ST_ASSIGN_OR_RETURN(Stmt live, Prepare(db, "SELECT officer FROM approval WHERE action_key = ?1 AND used_seq IS NULL "
                                             "AND expires_unix_ms > ?2 GROUP BY officer ORDER BY MIN(seq)"));
  Bind(live.get(), action_key, now_unix_ms);
  std::vector<std::string> officers;
  int rc;
  while ((rc = sqlite3_step(live.get())) == SQLITE_ROW) officers.push_back(ColumnText(live.get(), 0));
  if (rc != SQLITE_DONE) return StorageError(db, "counting approvals");
  return officers;
}

Status UseApprovals(sqlite3* db, const std::string& action_key, int64_t now_unix_ms, uint64_t seq) {
  return Run(db,
             "UPDATE approval SET used_seq = ?3 WHERE action_key = ?1 AND used_seq IS NULL AND expires_unix_ms > ?2",
             "using approvals", action_key, now_unix_ms, seq);
}

Status ImportLot(sqlite3* db, const LotRow& lot, const std::string& upload_id, int64_t now_unix_ms) {
  ST_ASSIGN_OR_RETURN(Stmt exists, Prepare(db, "SELECT 1 FROM lot WHERE name = ?1"));
  Bind(exists.get(), lot.name);
  if (sqlite3_step(exists.get()) == SQLITE_ROW)
    return MakeError(Code::kAlreadyExists, "LOT_EXISTS",
                     "lot '" + lot.name + "' exists already; choose another --lot name");
  ST_RETURN_IF_ERROR(Run(db,
                         "INSERT INTO lot (name, profile, state, devices, source, imported_by, imported_unix_ms) "
                         "VALUES (?1, ?2, 'open', (SELECT COUNT(*) FROM lot_upload WHERE upload_id = ?3), ?4, ?5, ?6)",
                         "recording the lot", lot.name, lot.profile, upload_id, lot.source, lot.imported_by,
                         now_unix_ms));
  ST_RETURN_IF_ERROR(Run(db,
                         "INSERT INTO lot_device (profile, device_id, lot) "
                         "SELECT ?1, device_id, ?2 FROM lot_upload WHERE upload_id = ?3",
                         "recording a lot's devices", lot.profile, lot.name, upload_id));
  return DropLotUpload(db, upload_id);
}

Result<std::string> CloseLot(sqlite3* db, const std::string& name) {
  ST_ASSIGN_OR_RETURN(Stmt close, Prepare(db, "UPDATE lot SET state = 'closed' WHERE name = ?1 RETURNING profile"));
  Bind(close.get(), name);
  int rc = sqlite3_step(close.get());
  if (rc == SQLITE_DONE) return MakeError(Code::kNotFound, "LOT_NOT_FOUND", "there is no lot '" + name + "'");
  if (rc != SQLITE_ROW) return StorageError(db, "closing the lot");
  std::string profile = ColumnText(close.get(), 0);
  if (sqlite3_step(close.get()) != SQLITE_DONE) return StorageError(db, "closing the lot");
  return profile;
}

Status AddCodes(sqlite3* db, const std::string& profile, const std::string& batch, const std::vector<CodeRow>& codes) {
  ST_ASSIGN_OR_RETURN(Stmt insert, Prepare(db, "INSERT INTO registration_code (code_sha256, profile, batch, "
                                               "expires_unix_ms) VALUES (?1, ?2, ?3, ?4)"));
  for (const CodeRow& code : codes) {
    Bind(insert.get(), code.code_sha256, profile, batch, code.expires_unix_ms);
    if (StepOnce(insert.get()) != SQLITE_DONE) return StorageError(db, "recording a registration code");
  }
  return {};
}

Status AddReissueApproval(sqlite3* db, const std::string& profile, const std::string& device_id,
                          const std::string& approved_by, int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) {
  return Run(db,
             "INSERT INTO reissue_approval (profile, device_id, approved_by, created_unix_ms, expires_unix_ms, seq) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
             "recording the approval", profile, device_id, approved_by, now_unix_ms, now_unix_ms + ttl_s * 1000, seq);
}

Status StageLotIds(sqlite3* db, const std::string& upload_id, const std::vector<std::string>& ids) {
  ST_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  auto staged = [&]() -> Status {
    ST_ASSIGN_OR_RETURN(Stmt insert, Prepare(db, "INSERT INTO lot_upload (upload_id, device_id) VALUES (?1, ?2)"));
    for (const std::string& id : ids) {
      Bind(insert.get(), upload_id, id);
      const int rc = StepOnce(insert.get());
      if (rc == SQLITE_CONSTRAINT)
        return MakeError(Code::kInvalidArgument, "LOT_INVALID", "device id '" + id + "' appears twice");
      if (rc != SQLITE_DONE) return StorageError(db, "keeping a lot's device ids");
    }
    return {};
  }();
  if (!staged.ok()) {
    (void)Exec(db, "ROLLBACK");  // the first error is the one to report
    return staged;
  }
  return Exec(db, "COMMIT");
}

Status DropLotUpload(sqlite3* db, const std::string& upload_id) {
  return Run(db, "DELETE FROM lot_upload WHERE ?1 = '' OR upload_id = ?1", "dropping a lot's staged ids", upload_id);
}

Result<std::vector<CaRow>> CaSets(sqlite3* db) {
  ST_ASSIGN_OR_RETURN(Stmt select, Prepare(db, "SELECT issuer, key_id, key_uri, certificate_pem, state, "
                                               "activate_at_unix_ms FROM ca_state ORDER BY issuer, changed_seq"));
  std::vector<CaRow> rows;
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW)
    rows.push_back(CaRow{ColumnText(select.get(), 0), ColumnText(select.get(), 1), ColumnText(select.get(), 2),
                         ColumnText(select.get(), 3), ColumnText(select.get(), 4),
                         sqlite3_column_int64(select.get(), 5)});
  if (rc != SQLITE_DONE) return StorageError(db, "reading the CA set");
  return rows;
}

Result<std::map<std::string, std::string>> ProfileLines(sqlite3* db) {
  ST_ASSIGN_OR_RETURN(Stmt select, Prepare(db, "SELECT profile, lines FROM profile_lines"));
  std::map<std::string, std::string> out;
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW)
    out[ColumnText(select.get(), 0)] = ColumnText(select.get(), 1);
  if (rc != SQLITE_DONE) return StorageError(db, "reading profile lines");
  return out;
}

Result<std::vector<LotSummary>> Lots(sqlite3* db) {
  ST_ASSIGN_OR_RETURN(Stmt list, Prepare(db, "SELECT l.name, l.profile, l.state, l.devices, "
                                             "(SELECT COUNT(DISTINCT d.device_id) FROM lot_device d JOIN issuance i "
                                             "ON i.profile = d.profile AND i.device_id = d.device_id "
                                             "WHERE d.lot = l.name) "
                                             "FROM lot l ORDER BY l.imported_unix_ms, l.name"));
  std::vector<LotSummary> out;
  int rc;
  while ((rc = sqlite3_step(list.get())) == SQLITE_ROW)
    out.push_back({ColumnText(list.get(), 0), ColumnText(list.get(), 1), ColumnText(list.get(), 2),
                   sqlite3_column_int64(list.get(), 3), sqlite3_column_int64(list.get(), 4)});
  if (rc != SQLITE_DONE) return StorageError(db, "listing lots");
  return out;
}

Result<std::map<std::string, uint64_t>> UnusedCodes(sqlite3* db, int64_t now_unix_ms) {
  ST_ASSIGN_OR_RETURN(Stmt count, Prepare(db, "SELECT profile, COUNT(*) FROM registration_code "
                                              "WHERE used_seq IS NULL AND expires_unix_ms > ? GROUP BY profile"));
  sqlite3_bind_int64(count.get(), 1, now_unix_ms);
  std::map<std::string, uint64_t> out;
  int rc;
  while ((rc = sqlite3_step(count.get())) == SQLITE_ROW)
    out[ColumnText(count.get(), 0)] = static_cast<uint64_t>(sqlite3_column_int64(count.get(), 1));
  if (rc != SQLITE_DONE) return StorageError(db, "counting registration codes");
  return out;
}

}  // namespace station::store::sqlite
