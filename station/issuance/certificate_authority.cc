#include "station/issuance/certificate_authority.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "hsm/key_attributes.h"
#include "station/base/files.h"
#include "station/pki/cert_builder.h"
#include "station/pki/certificate_der.h"
#include "station/pki/chain.h"
#include "station/pki/pem.h"

namespace station::issuance {

Status CheckCertMatchesKey(X509* cert, EVP_PKEY* key) {
  EVP_PKEY* cert_key = X509_get0_pubkey(cert);
  if (cert_key == nullptr || EVP_PKEY_eq(cert_key, key) != 1)
    return MakeError(Code::kFailedPrecondition, "CA_CERT_KEY_MISMATCH",
                     "certificate '" + pki::NameText(X509_get_subject_name(cert)) +
                         "' does not hold the public key of the token key");
  return {};
}

Result<std::shared_ptr<CertificateAuthority>> CertificateAuthority::Load(std::shared_ptr<hsm::TokenKey> key,
                                                                         const std::string& cert_pem_path,
                                                                         const std::string& root_pem_path) {
  ST_ASSIGN_OR_RETURN(std::string pem, base::ReadFile(cert_pem_path));
  return FromPem(std::move(key), pem, cert_pem_path, root_pem_path);
}

Result<std::shared_ptr<CertificateAuthority>> CertificateAuthority::FromPem(std::shared_ptr<hsm::TokenKey> key,
                                                                            const std::string& cert_pem,
                                                                            const std::string& what,
                                                                            const std::string& root_pem_path) {
  if (key->algorithm() == hsm::KeyAlgorithm::kEd25519)
    return MakeError(Code::kFailedPrecondition, "UNSUPPORTED_CA_KEY",
                     "key '" + key->label() + "' is Ed25519, which the station uses for audit checkpoints only");
  ST_ASSIGN_OR_RETURN(auto chain, pki::ParseCertsPem(cert_pem, what));
  X509* ca = chain.front().get();
  ST_RETURN_IF_ERROR(CheckCertMatchesKey(ca, key->evp()));
  if (X509_check_ca(ca) == 0)
    return MakeError(Code::kFailedPrecondition, "CA_CERT_NOT_CA",
                     what + ": the first certificate is not a CA certificate (basicConstraints CA:TRUE)");
  ST_RETURN_IF_ERROR(hsm::RequireSigningOnlyKey(*key, "CA key"));
  if (!root_pem_path.empty()) {
    ST_ASSIGN_OR_RETURN(auto roots, pki::ReadCertsPem(root_pem_path));
    if (Status st = pki::CheckChainToRoot(chain, roots); !st.ok())
      return MakeError(st.error().code, st.error().reason,
                       what + " -> " + root_pem_path + ": " + st.error().message);
  }
  std::shared_ptr<CertificateAuthority> out(new CertificateAuthority());
  out->key_ = std::move(key);
  for (auto& cert : chain) {
    out->chain_der_.push_back(CertDer(cert.get()));
    out->chain_.push_back(std::move(cert));
  }
  out->key_id_ = pki::CaKeyId(ca);
  OsslPtr<AUTHORITY_KEYID, AUTHORITY_KEYID_free> akid(AUTHORITY_KEYID_new());
  if (akid) akid->keyid = ASN1_OCTET_STRING_new();
  if (!akid || akid->keyid == nullptr ||
      ASN1_OCTET_STRING_set(akid->keyid, out->key_id_.data(), static_cast<int>(out->key_id_.size())) != 1)
    return MakeError(Code::kInternal, "CERT_BUILD_FAILED", "cannot encode the authorityKeyIdentifier");
  out->authority_key_id_.reset(X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid.get()));
  if (!out->authority_key_id_)
    return MakeError(Code::kInternal, "CERT_BUILD_FAILED", "cannot encode the authorityKeyIdentifier");
  out->rsa_ = !hsm::IsEc(out->key_->algorithm());
  out->public_key_ = X509_get0_pubkey(ca);  // a software key: signatures are checked outside the token
  out->subject_der_ = ToDer(X509_get_subject_name(ca), i2d_X509_NAME);
  ST_ASSIGN_OR_RETURN(out->signature_algorithm_der_, pki::SignatureAlgorithmDer(out->rsa_, out->digest()));
  return out;
}

Result<Bytes> CertificateAuthority::Sign(const Bytes& tbs_der) const {
  ST_ASSIGN_OR_RETURN(Bytes input, pki::SignInput(rsa_, digest(), tbs_der));
  ST_ASSIGN_OR_RETURN(Bytes signature, key_->SignRaw(rsa_ ? CKM_RSA_PKCS : CKM_ECDSA, input.data(), input.size()));
  if (!rsa_) {
    ST_ASSIGN_OR_RETURN(signature, pki::EcdsaSignatureDer(signature));
  }
  ST_RETURN_IF_ERROR(CheckSignature(input, signature));
  return pki::CertificateDer(tbs_der, signature_algorithm_der_, signature);
}

Status CertificateAuthority::CheckSignature(const Bytes& input, const Bytes& signature) const {
  // `input` is what the token signed (the digest, or RSA's DigestInfo), so
  // this checks the very signature the certificate will carry without hashing again.
  OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(EVP_PKEY_CTX_new(public_key_, nullptr));
  if (ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
      (!rsa_ || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1) &&
      EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), input.data(), input.size()) == 1)
    return {};
  ERR_clear_error();
  return MakeFault(Fault::kSignatureInvalid, Code::kInternal, "SIGNATURE_INVALID",
                   "the token's signature with key '" + key_->label() +
                       "' does not verify with the CA certificate's public key; the certificate was withheld");
}

std::string CertificateAuthority::chain_pem() const {
  std::string out;
  for (const X509Ptr& cert : chain_) out += pki::CertPem(cert.get());
  return out;
}

}  // namespace station::issuance
