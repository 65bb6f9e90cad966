#include "station/officer/ca_set.h"

#include <algorithm>
#include <map>

#include "hsm/uri.h"
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

Status WriteCaSet(store::Changes& changes, const std::string& issuer, const std::vector<StoredCa>& rows, uint64_t seq) {
  std::vector<store::CaRow> stored;
  for (const StoredCa& row : rows)
    stored.push_back({issuer, row.key_id, row.key_uri, row.certificate_pem, issuance::CaStateName(row.state),
                      row.activate_at_unix_ms});
  return changes.ReplaceCaSet(issuer, stored, seq);
}

Result<std::vector<StoredCa>> ReadCaSet(store::Store& store) {
  ST_ASSIGN_OR_RETURN(std::vector<store::CaRow> stored, store.CaSets());
  std::vector<StoredCa> rows;
  for (store::CaRow& row : stored) {
    ST_ASSIGN_OR_RETURN(issuance::CaState state, ParseState(row.state));
    rows.push_back({std::move(row.issuer), std::move(row.key_id), std::move(row.key_uri),
                    std::move(row.certificate_pem), state, row.activate_at_unix_ms});
  }
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

Status RestoreCaSets(store::Store& store, const std::vector<issuance::Issuer*>& issuers,
                     const std::shared_ptr<hsm::Token>& token, const std::string& root_pem_path) {
  ST_ASSIGN_OR_RETURN(std::vector<StoredCa> rows, ReadCaSet(store));
  // The active CA first: restoring it makes the one it replaced previous, so
  // an issuer of a running station is never without one in between.
  std::stable_sort(rows.begin(), rows.end(), [](const StoredCa& a, const StoredCa& b) {
    return (a.state == issuance::CaState::kActive) > (b.state == issuance::CaState::kActive);
  });
  std::map<std::string, issuance::Issuer*> by_name;
  for (issuance::Issuer* issuer : issuers) by_name[issuer->name()] = issuer;
  Status first_error;
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
        if (row.state == issuance::CaState::kRetired) {
          base::LogInfo("left out: " + e.message);
        } else if (first_error.ok()) {
          first_error = e;
        }
        continue;
      }
      ca = std::move(*loaded);
    }
    issuer.Restore(std::move(ca), row.state, row.activate_at_unix_ms);
    // As an officer's retire does on a running station: wait for the
    // signatures in flight with it, so that nothing more is signed with it.
    if (row.state == issuance::CaState::kRetired) {
      Status retired = issuer.Retire(row.key_id);
      if (!retired.ok()) base::LogInfo("issuer '" + row.issuer + "': " + retired.error().message);
    }
  }
  return first_error;
}

}  // namespace station::officer
