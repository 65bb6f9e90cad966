#include "station/store/sqlite_state.h"

#include <map>
#include <vector>

#include "station/store/sqlite_db.h"
#include "station/store/state_digest.h"

namespace station::store::sqlite {
namespace {

Result<std::set<std::string>> GroupsOf(sqlite3* db, const StateSpec& spec) {
  ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, spec.groups_sql));
  std::set<std::string> out;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) out.insert(ColumnText(stmt.get(), 0));
  if (rc != SQLITE_DONE) return StorageError(db, std::string("reading ") + spec.name);
  return out;
}

// The SQL of each use check (state_digest.h), in its order.
const char* const kUseCheckSql[kUseCheckCount] = {
    "SELECT c.batch, c.used_seq FROM registration_code c WHERE c.used_seq IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM issuance i WHERE i.seq = c.used_seq AND i.authorization LIKE 'code:' || substr(c.code_sha256, 1, "
    "16) || '%') LIMIT 1",
    "SELECT '', i.seq FROM issuance i WHERE i.authorization <> '' AND i.authorization GLOB 'code:*' AND NOT EXISTS "
    "(SELECT 1 FROM registration_code c WHERE c.used_seq = i.seq) LIMIT 1",
    "SELECT r.seq, r.used_seq FROM reissue_approval r WHERE r.used_seq IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM issuance i WHERE i.seq = r.used_seq AND i.profile = r.profile AND i.device_id = r.device_id "
    "AND i.authorization LIKE '%+reissue:%') LIMIT 1",
    "SELECT '', i.seq FROM issuance i WHERE i.authorization <> '' AND i.authorization LIKE '%+reissue:%' AND NOT "
    "EXISTS (SELECT 1 FROM reissue_approval r WHERE r.used_seq = i.seq) LIMIT 1",
    "SELECT a.seq, a.used_seq FROM approval a WHERE a.used_seq IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM approval b JOIN officer_action o ON o.seq = b.seq WHERE b.seq = a.used_seq "
    "AND b.action_key = a.action_key AND o.detail LIKE '%\"executed\":true%') LIMIT 1",
    "SELECT '', o.seq FROM officer_action o WHERE o.detail LIKE '%\"executed\":true%' AND "
    "(SELECT COUNT(DISTINCT a.officer) FROM approval a WHERE a.used_seq = o.seq) < "
    "CAST(substr(o.detail, instr(o.detail, '\"required\":') + 11) AS INTEGER) LIMIT 1",
};

}  // namespace

Result<std::optional<StateProblem>> CheckUses(sqlite3* db) {
  for (int check = 0; check < kUseCheckCount; ++check) {
    ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, kUseCheckSql[check]));
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) continue;
    if (rc != SQLITE_ROW) return StorageError(db, std::string("checking the use of ") + kUseChecks[check].table);
    return std::optional<StateProblem>(
        UseProblem(check, ColumnText(stmt.get(), 0), std::to_string(sqlite3_column_int64(stmt.get(), 1))));
  }
  return std::optional<StateProblem>();
}

Result<std::set<std::string>> Groups(sqlite3* db, StateTable table) { return GroupsOf(db, StateSpecOf(table)); }

Result<std::string> GroupDigest(sqlite3* db, StateTable table, const std::string& group) {
  const StateSpec& spec = StateSpecOf(table);
  ST_ASSIGN_OR_RETURN(GroupDigester digester, GroupDigester::Start(spec, group));
  for (const char* sql : spec.rows_sql) {
    ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, sql));
    BindText(stmt.get(), 1, group);
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      digester.BeginRow();
      for (int col = 0; col < sqlite3_column_count(stmt.get()); ++col) {
        if (sqlite3_column_type(stmt.get(), col) == SQLITE_NULL) {
          digester.Null();
          continue;
        }
        const unsigned char* text = sqlite3_column_text(stmt.get(), col);
        digester.Value(text, static_cast<size_t>(sqlite3_column_bytes(stmt.get(), col)));
      }
    }
    if (rc != SQLITE_DONE) return StorageError(db, std::string("reading ") + spec.name);
    digester.EndQuery();
  }
  return digester.Finish();
}

}  // namespace station::store::sqlite
