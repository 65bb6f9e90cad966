#include "station/officer/ca_set.h"

#include <map>

#include "hsm/uri.h"
#include "station/audit/sqlite.h"
#include "station/base/log.h"

namespace station::officer {
namespace {

Result<issuance::CaState> ParseState(const std::string& text) {
  for (auto s : {issuance::CaState::kStaged, issuance::CaState::kActive, issuance::CaState::kPrevious,
                 issuance::CaState::kRetired})
    if (text == issuance::CaStateName(s)) return s;
  return MakeError(Code::kDataLoss, "CA_STATE_INVALID", "the state database holds an unknown CA state '" + text + "'");
}

}  // namespace

std::vector<StoredCa> Snapshot(issuance::Issuer& issuer) {
  std::vector<StoredCa> rows;
  for (const auto& status : issuer.List()) {
    StoredCa row;
    row.issuer = issuer.name();
    row.key_id = status.ca->key_id_hex();
    const hsm::TokenKey& key = status.ca->token_key();
    row.key_uri = hsm::PrivateKeyUri(key.token().label(), key.label()).ToString();
    row.certificate_pem = status.ca->chain_pem();
    row.state = status.state;
    row.activate_at_unix_ms = status.activate_at_unix_ms;
    rows.push_back(std::move(row));
  }
  return rows;
}

Status WriteCaSet(sqlite3* db, const std::string& issuer, const std::vector<StoredCa>& rows, uint64_t seq) {
  ST_ASSIGN_OR_RETURN(audit::Stmt erase, audit::Prepare(db, "DELETE FROM ca_state WHERE issuer = ?1"));
  audit::BindText(erase.get(), 1, issuer);
  if (sqlite3_step(erase.get()) != SQLITE_DONE) return audit::StorageError(db, "updating the CA set");
  ST_ASSIGN_OR_RETURN(audit::Stmt insert,
                      audit::Prepare(db, "INSERT INTO ca_state (issuer, key_id, key_uri, certificate_pem, state, "
                                         "activate_at_unix_ms, changed_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  for (const StoredCa& row : rows) {
    sqlite3_reset(insert.get());
    const std::string state = issuance::CaStateName(row.state);
    audit::BindText(insert.get(), 1, issuer);
    audit::BindText(insert.get(), 2, row.key_id);
    audit::BindText(insert.get(), 3, row.key_uri);
    audit::BindText(insert.get(), 4, row.certificate_pem);
    audit::BindText(insert.get(), 5, state);
    sqlite3_bind_int64(insert.get(), 6, row.activate_at_unix_ms);
    sqlite3_bind_int64(insert.get(), 7, static_cast<sqlite3_int64>(seq));
    if (sqlite3_step(insert.get()) != SQLITE_DONE) return audit::StorageError(db, "updating the CA set");
  }
  return {};
}

Result<std::vector<StoredCa>> ReadCaSet(const std::string& db_path) {
  ST_ASSIGN_OR_RETURN(audit::Db db, audit::OpenDb(db_path, false));
  ST_ASSIGN_OR_RETURN(audit::Stmt select,
                      audit::Prepare(db.get(), "SELECT issuer, key_id, key_uri, certificate_pem, state, "
                                               "activate_at_unix_ms FROM ca_state ORDER BY issuer, changed_seq"));
  std::vector<StoredCa> rows;
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    StoredCa row;
    row.issuer = audit::ColumnText(select.get(), 0);
    row.key_id = audit::ColumnText(select.get(), 1);
    row.key_uri = audit::ColumnText(select.get(), 2);
    row.certificate_pem = audit::ColumnText(select.get(), 3);
    ST_ASSIGN_OR_RETURN(row.state, ParseState(audit::ColumnText(select.get(), 4)));
    row.activate_at_unix_ms = sqlite3_column_int64(select.get(), 5);
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return audit::StorageError(db.get(), "reading the CA set");
  return rows;
}

Result<std::shared_ptr<issuance::CertificateAuthority>> LoadCa(const std::shared_ptr<hsm::Token>& token,
                                                               const std::string& key_uri,
                                                               const std::string& certificate_pem,
                                                               const std::string& root_pem_path) {
  ST_ASSIGN_OR_RETURN(auto uri, hsm::ParsePkcs11Uri(key_uri));
  ST_ASSIGN_OR_RETURN(auto key, hsm::TokenKey::Find(token, uri));
  return issuance::CertificateAuthority::FromPem(std::move(key), certificate_pem, "CA certificate of " + key_uri,
                                                 root_pem_path);
}

Status RestoreCaSets(const std::string& db_path, const std::vector<issuance::Issuer*>& issuers,
                     const std::shared_ptr<hsm::Token>& token, const std::string& root_pem_path) {
  ST_ASSIGN_OR_RETURN(std::vector<StoredCa> rows, ReadCaSet(db_path));
  std::map<std::string, issuance::Issuer*> by_name;
  for (issuance::Issuer* issuer : issuers) by_name[issuer->name()] = issuer;
  for (const StoredCa& row : rows) {
    auto it = by_name.find(row.issuer);
    if (it == by_name.end()) continue;
    issuance::Issuer& issuer = *it->second;
    std::shared_ptr<const issuance::CertificateAuthority> ca = issuer.Find(row.key_id);
    if (!ca) {
      auto loaded = LoadCa(token, row.key_uri, row.certificate_pem, root_pem_path);
      if (!loaded.ok()) {
        Error e = loaded.error();
        e.message = "issuer '" + row.issuer + "', " + issuance::CaStateName(row.state) + " CA " + row.key_id + ": " +
                    e.message;
        if (row.state != issuance::CaState::kRetired) return e;
        base::LogInfo("left out: " + e.message);
        continue;
      }
      ca = std::move(*loaded);
    }
    issuer.Restore(std::move(ca), row.state, row.activate_at_unix_ms);
  }
  return {};
}

}  // namespace station::officer
