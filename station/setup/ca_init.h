// The key ceremony's building blocks: a CA key generated in a token and
// checked by reading its attributes back, a certificate request for an
// external (offline) root or a self-signed certificate for a lab root, and
// the checks a CA certificate passes before it is installed. Shared by
// `stationctl dev-setup` (SoftHSM) and `stationctl ca ...` (a real HSM).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hsm/key_attributes.h"
#include "hsm/keygen.h"
#include "station/pki/x509.h"

namespace station::setup {

// INVALID_ARGUMENT BAD_NAME unless `subject` is a usable CA name ("CN=...,O=...").
Status CheckCaSubject(const std::string& subject);

// The algorithms a CA key may have; `ca keygen` offers these.
Result<hsm::KeyAlgorithm> ParseCaKeyAlgorithm(const std::string& name);

struct CaKey {
  std::shared_ptr<hsm::TokenKey> key;
  std::string key_uri;            // names the key, for station.conf
  hsm::KeyAttributes attributes;  // as read back from the token
};

// Generates a CA key pair in the token (sign only, sensitive, never
// extractable, a fresh CKA_ID) and reads its attributes back; a key the
// token did not make as asked is destroyed and refused.
Result<CaKey> GenerateCaKey(std::shared_ptr<hsm::Token> token, hsm::KeyAlgorithm algorithm, const std::string& label);

// The CA key with this CKA_LABEL, refused (hsm/key_attributes.h) unless it
// was generated in the token and can never leave it.
Result<CaKey> OpenCaKey(std::shared_ptr<hsm::Token> token, const std::string& label);

struct CaCertRequest {
  std::string subject;       // "CN=...,O=..."; make it unique per AWS account
  int validity_days = 3650;  // for a certificate made here
  int path_len = 0;          // pathLenConstraint: 0 issues end entities only
  // When set, the certificate is signed by this CA (a root in the same token)
  // instead of by the key itself.
  hsm::TokenKey* issuer_key = nullptr;
  X509* issuer_cert = nullptr;
};

// A CA certificate for the key: self-signed, or by request.issuer_key.
Result<std::string> MakeCaCertPem(hsm::TokenKey& key, const CaCertRequest& request);
// A PKCS#10 request asking an external root for a CA certificate.
Result<std::string> MakeCaCsrPem(hsm::TokenKey& key, const std::string& subject);

// GenerateCaKey, then MakeCaCertPem: what dev-setup and `ca init --self-signed` do.
struct CaInitResult {
  CaKey key;
  std::string cert_pem;
};
Result<CaInitResult> InitSelfSignedCa(std::shared_ptr<hsm::Token> token, hsm::KeyAlgorithm algorithm,
                                      const std::string& label, const CaCertRequest& request);

// Checks a CA certificate (PEM: the CA first, then any intermediates) before
// it is installed for `key`: it holds the key's public key, is a CA
// certificate, is in its validity period, and chains to one of the roots in
// `roots_pem_path` (CA_ROOT_NOT_CONFIGURED when that is empty). Returns the
// certificates it checked.
Result<std::vector<X509Ptr>> CheckCaCertificate(const std::string& cert_pem, hsm::TokenKey& key,
                                                const std::string& roots_pem_path);

}  // namespace station::setup
