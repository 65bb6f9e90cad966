// Making a CA key in a token and its certificate: shared by `stationctl
// dev-setup` (SoftHSM) and `stationctl ca init` / `ca import-cert` (a real HSM).
#pragma once

#include <memory>
#include <string>

#include "hsm/keygen.h"

namespace station::setup {

struct CaInitRequest {
  hsm::KeyAlgorithm algorithm = hsm::KeyAlgorithm::kEcP256;
  std::string key_label = "station-ca";
  std::string subject;       // "CN=...,O=..."; make it unique per AWS account
  int validity_days = 3650;  // for a certificate made here
  int path_len = 0;          // pathLenConstraint: 0 issues end entities only
  // When set, the certificate is signed by this CA (a root in the same token)
  // instead of by the new key itself.
  hsm::TokenKey* issuer_key = nullptr;
  X509* issuer_cert = nullptr;
};

struct CaInitResult {
  std::shared_ptr<hsm::TokenKey> key;
  std::string key_uri;        // names the new key, for station.conf
  std::string cert_pem;       // self-signed CA certificate (when asked for)
  std::string csr_pem;        // CSR for an external root (when asked for)
};

// Generates the key pair in the token (sensitive, non-extractable, with a
// CKA_ID) and makes a certificate (self-signed, or by request.issuer_key) or a
// CSR with it.
Result<CaInitResult> InitCa(std::shared_ptr<hsm::Token> token, const CaInitRequest& request, bool make_certificate);

// Checks a CA certificate signed by an external root before it is installed:
// it must hold the token key's public key and be a CA certificate.
Status CheckCaCertificate(const std::string& cert_pem, hsm::TokenKey& key);

}  // namespace station::setup
