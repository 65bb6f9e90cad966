#include "station/officer/approvals.h"

#include "station/audit/sqlite.h"

namespace station::officer {

Result<std::vector<std::string>> AddApproval(sqlite3* db, const std::string& action_key, const std::string& officer,
                                             int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) {
  ST_ASSIGN_OR_RETURN(audit::Stmt insert,
                      audit::Prepare(db, "INSERT INTO approval (action_key, officer, created_unix_ms, "
                                         "expires_unix_ms, seq) VALUES (?1, ?2, ?3, ?4, ?5)"));
  audit::BindText(insert.get(), 1, action_key);
  audit::BindText(insert.get(), 2, officer);
  sqlite3_bind_int64(insert.get(), 3, now_unix_ms);
  sqlite3_bind_int64(insert.get(), 4, now_unix_ms + ttl_s * 1000);
  sqlite3_bind_int64(insert.get(), 5, static_cast<sqlite3_int64>(seq));
  if (sqlite3_step(insert.get()) != SQLITE_DONE) return audit::StorageError(db, "recording an approval");
  ST_ASSIGN_OR_RETURN(audit::Stmt live,
                      audit::Prepare(db, "SELECT officer FROM approval WHERE action_key = ?1 AND used_seq IS NULL "
                                         "AND expires_unix_ms > ?2 GROUP BY officer ORDER BY MIN(seq)"));
  audit::BindText(live.get(), 1, action_key);
  sqlite3_bind_int64(live.get(), 2, now_unix_ms);
  std::vector<std::string> officers;
  int rc;
  while ((rc = sqlite3_step(live.get())) == SQLITE_ROW) officers.push_back(audit::ColumnText(live.get(), 0));
  if (rc != SQLITE_DONE) return audit::StorageError(db, "counting approvals");
  return officers;
}

Status UseApprovals(sqlite3* db, const std::string& action_key, int64_t now_unix_ms, uint64_t seq) {
  ST_ASSIGN_OR_RETURN(audit::Stmt use,
                      audit::Prepare(db, "UPDATE approval SET used_seq = ?3 WHERE action_key = ?1 AND used_seq IS "
                                         "NULL AND expires_unix_ms > ?2"));
  audit::BindText(use.get(), 1, action_key);
  sqlite3_bind_int64(use.get(), 2, now_unix_ms);
  sqlite3_bind_int64(use.get(), 3, static_cast<sqlite3_int64>(seq));
  if (sqlite3_step(use.get()) != SQLITE_DONE) return audit::StorageError(db, "using approvals");
  return {};
}

}  // namespace station::officer
