#include "station/audit/store.h"

namespace station::audit {

Result<std::optional<AuditRecord>> AuditReader::FindByRequest(const std::string& caller,
                                                              const std::string& request_id) {
  ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
  ST_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, lease.Statement(FindByRequestSql()));
  BindText(stmt, 1, caller);
  BindText(stmt, 2, request_id);
  int rc = sqlite3_step(stmt);
  std::optional<AuditRecord> found;
  if (rc == SQLITE_ROW) found = ReadRecord(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return StorageError(lease.db(), "looking up a request");
  return found;
}

Result<std::string> AuditReader::CheckClaims(const Claims& claims) {
  ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
  return audit::CheckClaims([&lease](const char* sql) { return lease.Statement(sql); }, lease.db(), claims,
                            NowUnixMs(), 0);
}

Status AuditReader::ForEach(const std::function<bool(const AuditRecord&)>& fn, uint64_t after_seq) {
  ST_ASSIGN_OR_RETURN(Db db, OpenDb(pool_.path(), false));
  return ForEachRecord(db.get(), after_seq, fn);
}

}  // namespace station::audit
