#include "station/store/sqlite_state.h"

#include <openssl/evp.h>

#include <map>
#include <vector>

#include "station/base/ossl.h"
#include "station/store/sqlite_db.h"

namespace station::store::sqlite {
namespace {

// What one table's groups are and which rows make one group, in a fixed
// order. Every column but the use marks.
struct TableSpec {
  const char* name;
  const char* groups_sql;
  std::vector<const char*> rows_sql;  // ?1 = the group
};

// Every gating table, in the order CheckState looks at them.
const std::map<StateTable, TableSpec>& Specs() {
  static const std::map<StateTable, TableSpec> specs = {
      {StateTable::kCaSet,
       {"ca_state", "SELECT DISTINCT issuer FROM ca_state",
        {"SELECT key_id, key_uri, certificate_pem, state, activate_at_unix_ms, changed_seq FROM ca_state "
         "WHERE issuer = ?1 ORDER BY key_id"}}},
      {StateTable::kProfileLines,
       {"profile_lines", "SELECT profile FROM profile_lines",
        {"SELECT lines, changed_seq FROM profile_lines WHERE profile = ?1"}}},
      {StateTable::kApproval,
       {"approval", "SELECT DISTINCT seq FROM approval",
        {"SELECT action_key, officer, created_unix_ms, expires_unix_ms FROM approval WHERE seq = ?1 "
         "ORDER BY action_key, officer, created_unix_ms"}}},
      {StateTable::kReissueApproval,
       {"reissue_approval", "SELECT DISTINCT seq FROM reissue_approval",
        {"SELECT profile, device_id, approved_by, created_unix_ms, expires_unix_ms FROM reissue_approval "
         "WHERE seq = ?1 ORDER BY profile, device_id, created_unix_ms"}}},
      {StateTable::kCodeBatch,
       {"registration_code", "SELECT DISTINCT batch FROM registration_code",
        {"SELECT code_sha256, profile, expires_unix_ms FROM registration_code WHERE batch = ?1 ORDER BY code_sha256"}}},
      {StateTable::kLot,
       {"lot", "SELECT name FROM lot UNION SELECT lot FROM lot_device",
        {"SELECT profile, state, devices, source, imported_by, imported_unix_ms FROM lot WHERE name = ?1",
         "SELECT profile, device_id FROM lot_device WHERE lot = ?1 ORDER BY profile, device_id"}}},
  };
  return specs;
}

const TableSpec& Spec(StateTable table) { return Specs().at(table); }

// Each field as a type octet and an 8-byte big-endian length before its bytes,
// so no two different groups hash alike.
void HashField(EVP_MD_CTX* ctx, uint8_t type, const void* data, size_t size) {
  uint8_t header[9] = {type};
  for (int i = 0; i < 8; ++i) header[1 + i] = static_cast<uint8_t>(static_cast<uint64_t>(size) >> (56 - 8 * i));
  EVP_DigestUpdate(ctx, header, sizeof header);
  if (size > 0) EVP_DigestUpdate(ctx, data, size);
}

Result<std::set<std::string>> GroupsOf(sqlite3* db, const TableSpec& spec) {
  ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, spec.groups_sql));
  std::set<std::string> out;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) out.insert(ColumnText(stmt.get(), 0));
  if (rc != SQLITE_DONE) return StorageError(db, std::string("reading ") + spec.name);
  return out;
}

// How an issuance record's authorization names what it used up (sqlite_reservation.h):
// "code:HASH16", "lot:NAME", and "+reissue:OFFICERS" after either or alone.
// Each check yields the first row that breaks it: (group, seq).
struct UseCheck {
  const char* table;
  const char* sql;
  const char* what;  // completed with the seq the query returns
};

const UseCheck kUseChecks[] = {
    {"registration_code",
     "SELECT c.batch, c.used_seq FROM registration_code c WHERE c.used_seq IS NOT NULL AND NOT EXISTS "
     "(SELECT 1 FROM issuance i WHERE i.seq = c.used_seq AND i.authorization LIKE 'code:' || substr(c.code_sha256, 1, "
     "16) || '%') LIMIT 1",
     "a code is marked used by record %, which did not use it"},
    {"registration_code",
     "SELECT '', i.seq FROM issuance i WHERE i.authorization <> '' AND i.authorization GLOB 'code:*' AND NOT EXISTS "
     "(SELECT 1 FROM registration_code c WHERE c.used_seq = i.seq) LIMIT 1",
     "record % used a registration code that the registry no longer marks used (a code works once)"},
    {"reissue_approval",
     "SELECT r.seq, r.used_seq FROM reissue_approval r WHERE r.used_seq IS NOT NULL AND NOT EXISTS "
     "(SELECT 1 FROM issuance i WHERE i.seq = r.used_seq AND i.profile = r.profile AND i.device_id = r.device_id "
     "AND i.authorization LIKE '%+reissue:%') LIMIT 1",
     "a reissue approval is marked used by record %, which did not use it"},
    {"reissue_approval",
     "SELECT '', i.seq FROM issuance i WHERE i.authorization <> '' AND i.authorization LIKE '%+reissue:%' AND NOT "
     "EXISTS (SELECT 1 FROM reissue_approval r WHERE r.used_seq = i.seq) LIMIT 1",
     "record % used a reissue approval that is no longer marked used (an approval works once)"},
    {"approval",
     "SELECT a.seq, a.used_seq FROM approval a WHERE a.used_seq IS NOT NULL AND NOT EXISTS "
     "(SELECT 1 FROM approval b JOIN officer_action o ON o.seq = b.seq WHERE b.seq = a.used_seq "
     "AND b.action_key = a.action_key AND o.detail LIKE '%\"executed\":true%') LIMIT 1",
     "an approval is marked used by record %, which did not carry out its action"},
    {"approval",
     "SELECT '', o.seq FROM officer_action o WHERE o.detail LIKE '%\"executed\":true%' AND "
     "(SELECT COUNT(DISTINCT a.officer) FROM approval a WHERE a.used_seq = o.seq) < "
     "CAST(substr(o.detail, instr(o.detail, '\"required\":') + 11) AS INTEGER) LIMIT 1",
     "record % carried out an action with fewer used approvals than it required (approvals made unused again)"},
};

}  // namespace

Result<std::optional<StateProblem>> CheckUses(sqlite3* db) {
  for (const UseCheck& check : kUseChecks) {
    ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, check.sql));
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) continue;
    if (rc != SQLITE_ROW) return StorageError(db, std::string("checking the use of ") + check.table);
    std::string what = check.what;
    what.replace(what.find('%'), 1, std::to_string(sqlite3_column_int64(stmt.get(), 1)));
    return std::optional<StateProblem>(StateProblem{check.table, ColumnText(stmt.get(), 0), what});
  }
  return std::optional<StateProblem>();
}

Result<std::set<std::string>> Groups(sqlite3* db, StateTable table) { return GroupsOf(db, Spec(table)); }

}  // namespace station::store::sqlite

namespace station::store {

const char* StateTableName(StateTable table) noexcept { return sqlite::Spec(table).name; }

}  // namespace station::store

namespace station::store::sqlite {

Result<std::string> GroupDigest(sqlite3* db, StateTable table, const std::string& group) {
  const TableSpec& spec = Spec(table);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return MakeError(Code::kInternal, "DIGEST_FAILED", "SHA-256 is unavailable: " + OpenSslErrors());
  HashField(ctx.get(), 't', spec.name, std::char_traits<char>::length(spec.name));
  HashField(ctx.get(), 'g', group.data(), group.size());
  for (const char* sql : spec.rows_sql) {
    ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, sql));
    BindText(stmt.get(), 1, group);
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      HashField(ctx.get(), 'r', nullptr, 0);
      for (int col = 0; col < sqlite3_column_count(stmt.get()); ++col) {
        if (sqlite3_column_type(stmt.get(), col) == SQLITE_NULL) {
          HashField(ctx.get(), 'n', nullptr, 0);
          continue;
        }
        const unsigned char* text = sqlite3_column_text(stmt.get(), col);
        HashField(ctx.get(), 'v', text, static_cast<size_t>(sqlite3_column_bytes(stmt.get(), col)));
      }
    }
    if (rc != SQLITE_DONE) return StorageError(db, std::string("reading ") + spec.name);
    HashField(ctx.get(), 'e', nullptr, 0);
  }
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1)
    return MakeError(Code::kInternal, "DIGEST_FAILED", "SHA-256 failed: " + OpenSslErrors());
  return Hex(digest, size);
}

}  // namespace station::store::sqlite
