// The issuing CA as the pipeline uses it: a token-held key, the CA
// certificate that names it, and the chain a device receives.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hsm/key.h"
#include "station/pki/x509.h"

namespace station::issuance {

class CertificateAuthority {
 public:
  // Loads the CA certificate (and any intermediates after it) from a PEM file
  // and checks that it is a CA certificate for exactly this token key, that
  // the key is fit to be a CA key (hsm/key_attributes.h), and, when
  // `root_pem_path` is given, that the chain leads to one of its roots.
  static Result<std::shared_ptr<CertificateAuthority>> Load(std::shared_ptr<hsm::TokenKey> key,
                                                            const std::string& cert_pem_path,
                                                            const std::string& root_pem_path = "");
  // The same from PEM text; `what` names it in errors.
  static Result<std::shared_ptr<CertificateAuthority>> FromPem(std::shared_ptr<hsm::TokenKey> key,
                                                               const std::string& cert_pem, const std::string& what,
                                                               const std::string& root_pem_path = "");

  X509* cert() const noexcept { return chain_.front().get(); }
  EVP_PKEY* key() const noexcept { return key_->evp(); }
  const EVP_MD* digest() const noexcept { return key_->digest(); }
  const std::vector<Bytes>& chain_der() const noexcept { return chain_der_; }
  const Bytes& key_id() const noexcept { return key_id_; }  // the CA's subjectKeyIdentifier
  std::string key_id_hex() const { return Hex(key_id_); }
  // The authorityKeyIdentifier every certificate it issues carries (RFC 5280
  // 4.2.1.1: keyIdentifier = this CA's subjectKeyIdentifier).
  X509_EXTENSION* authority_key_id() const noexcept { return authority_key_id_.get(); }
  hsm::TokenKey& token_key() const noexcept { return *key_; }

  // What a certificate it signs holds: its subject as the issuer, and the
  // signature algorithm (also the TBSCertificate's signature field).
  const Bytes& subject_der() const noexcept { return subject_der_; }
  const Bytes& signature_algorithm_der() const noexcept { return signature_algorithm_der_; }
  // The certificate for `tbs_der`, signed by the CA key in the token. The
  // signature is checked with the CA certificate's public key before anything
  // is returned: INTERNAL SIGNATURE_INVALID when the token's does not verify.
  Result<Bytes> Sign(const Bytes& tbs_der) const;
  // The certificate and its intermediates as PEM, as they were loaded.
  std::string chain_pem() const;

 private:
  CertificateAuthority() = default;
  Status CheckSignature(const Bytes& input, const Bytes& signature) const;

  std::shared_ptr<hsm::TokenKey> key_;
  std::vector<X509Ptr> chain_;  // issuing CA first
  std::vector<Bytes> chain_der_;
  Bytes key_id_;
  X509ExtPtr authority_key_id_;
  EVP_PKEY* public_key_ = nullptr;  // owned by chain_.front()
  Bytes subject_der_;
  Bytes signature_algorithm_der_;
  bool rsa_ = false;
};

// Checks that a certificate holds the public key of a token key.
Status CheckCertMatchesKey(X509* cert, EVP_PKEY* key);

}  // namespace station::issuance
