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

Status AuditReader::ForEach(const std::function<bool(const AuditRecord&)>& fn) {
  ST_ASSIGN_OR_RETURN(Db db, OpenDb(pool_.path(), false));
  std::string sql = std::string("SELECT ") + SelectColumns() + " FROM issuance ORDER BY seq";
  ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db.get(), sql.c_str()));
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (!fn(ReadRecord(stmt.get()))) return {};
  }
  if (rc != SQLITE_DONE) return StorageError(db.get(), "reading the audit log");
  return {};
}

Result<VerifyReport> VerifyChain(AuditReader& reader) {
  VerifyReport report;
  std::string prev = kGenesisHash;
  uint64_t expected_seq = 1;
  Status st = reader.ForEach([&](const AuditRecord& r) {
    auto fail = [&](const std::string& problem) {
      report.intact = false;
      report.first_bad_seq = r.seq;
      report.problem = problem;
      return false;
    };
    if (r.seq != expected_seq)
      return fail("expected record " + std::to_string(expected_seq) + " here (records removed or reordered)");
    if (r.prev_hash != prev) return fail("prev_hash does not match the previous record's hash (chain broken)");
    if (ComputeRecordHash(r) != r.record_hash) return fail("record_hash does not match the record's content (record changed)");
    if (Hex(Sha256(r.certificate_der)) != r.certificate_id)
      return fail("certificate_id is not the SHA-256 of the stored certificate");
    prev = r.record_hash;
    ++expected_seq;
    ++report.records;
    return true;
  });
  if (!st.ok()) return st.error();
  return report;
}

}  // namespace station::audit
