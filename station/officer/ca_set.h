// The CA set of each issuer as officers left it (staged, active, previous,
// retired, with activation times), kept in the store so a rotation
// survives a restart. The config's [ca] and profiles' CAs seed an issuer;
// once officers act on it, these rows say what it holds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hsm/token.h"
#include "station/issuance/issuer.h"
#include "station/store/store.h"

namespace station::officer {

struct StoredCa {
  std::string issuer;
  std::string key_id;  // hex subjectKeyIdentifier
  std::string key_uri;
  std::string certificate_pem;
  issuance::CaState state = issuance::CaState::kStaged;
  int64_t activate_at_unix_ms = 0;
};

// An issuer's CAs as they are now, as rows.
std::vector<StoredCa> Snapshot(issuance::Issuer& issuer);

// Replaces the rows of `issuer` with `rows`, noting the officer record `seq`.
Status WriteCaSet(store::Changes& changes, const std::string& issuer, const std::vector<StoredCa>& rows, uint64_t seq);

// Reads every row.
Result<std::vector<StoredCa>> ReadCaSet(store::Store& store);

// Puts the stored CA sets back into the issuers at start: each CA's key is
// opened in `token` and checked like any CA (key attributes, certificate,
// chain to `root_pem_path`). A retired CA whose key or certificate no longer
// loads is left out (its certificates are still answered on retry, without a
// chain). Rows of an issuer the station no longer has are ignored.
Status RestoreCaSets(store::Store& store, const std::vector<issuance::Issuer*>& issuers,
                     const std::shared_ptr<hsm::Token>& token, const std::string& root_pem_path);

// The CA of `key_uri` + `certificate_pem`, loaded and checked.
Result<std::shared_ptr<issuance::CertificateAuthority>> LoadCa(const std::shared_ptr<hsm::Token>& token,
                                                               const std::string& key_uri,
                                                               const std::string& certificate_pem,
                                                               const std::string& root_pem_path);

}  // namespace station::officer
