#include "station/setup/ca_init.h"

#include "station/issuance/certificate_authority.h"
#include "station/pki/cert_builder.h"
#include "station/pki/chain.h"
#include "station/pki/pem.h"

namespace station::setup {
namespace {

std::string KeyUri(const hsm::Token& token, const hsm::TokenKey& key) {
  return hsm::PrivateKeyUri(token.label(), key.label()).ToString();
}

}  // namespace

Status CheckCaSubject(const std::string& subject) {
  if (subject.empty())
    return MakeError(Code::kInvalidArgument, "BAD_NAME", "the CA needs a subject, e.g. \"CN=Acme Line CA 1,O=Acme\"");
  auto name = pki::ParseName(subject);
  if (!name.ok()) return name.error();
  return {};
}

Result<hsm::KeyAlgorithm> ParseCaKeyAlgorithm(const std::string& name) {
  auto alg = hsm::ParseKeyAlgorithm(name);
  if (!alg.ok() || *alg == hsm::KeyAlgorithm::kEd25519)
    return MakeError(Code::kInvalidArgument, "UNSUPPORTED_KEY_ALGORITHM",
                     "a CA key is ec-p256, ec-p384, rsa-3072 or rsa-4096 (rsa-2048 for old verifiers), not '" + name +
                         "'");
  return *alg;
}

Result<CaKey> GenerateCaKey(std::shared_ptr<hsm::Token> token, hsm::KeyAlgorithm algorithm, const std::string& label) {
  hsm::KeygenRequest keygen;
  keygen.algorithm = algorithm;
  keygen.label = label;
  CaKey out;
  ST_ASSIGN_OR_RETURN(out.key, hsm::GenerateKeyPair(token, keygen));
  ST_ASSIGN_OR_RETURN(out.attributes, hsm::ReadKeyAttributes(*out.key));
  out.key_uri = KeyUri(*token, *out.key);
  return out;
}

Result<CaKey> OpenCaKey(std::shared_ptr<hsm::Token> token, const std::string& label) {
  if (label.empty()) return MakeError(Code::kInvalidArgument, "BAD_KEY_LABEL", "name the CA key by its label");
  CaKey out;
  ST_ASSIGN_OR_RETURN(out.key, hsm::TokenKey::Find(token, hsm::PrivateKeyUri("", label)));
  ST_ASSIGN_OR_RETURN(out.attributes, hsm::ReadKeyAttributes(*out.key));
  ST_RETURN_IF_ERROR(hsm::CheckSigningOnlyKey(out.attributes, "CA key", label));
  if (out.key->algorithm() == hsm::KeyAlgorithm::kEd25519)
    return MakeError(Code::kFailedPrecondition, "UNSUPPORTED_CA_KEY",
                     "key '" + label + "' is Ed25519, which the station uses for audit checkpoints only");
  out.key_uri = KeyUri(*token, *out.key);
  return out;
}

Result<std::string> MakeCaCertPem(hsm::TokenKey& key, const CaCertRequest& request) {
  ST_RETURN_IF_ERROR(CheckCaSubject(request.subject));
  pki::CertSpec spec;
  spec.subject = request.subject;
  spec.validity_days = request.validity_days;
  spec.is_ca = true;
  spec.path_len = request.path_len;
  EVP_PKEY* signer = request.issuer_key ? request.issuer_key->evp() : key.evp();
  ST_ASSIGN_OR_RETURN(auto cert, pki::MakeCert(spec, key.evp(), signer, request.issuer_cert));
  return pki::CertPem(cert.get());
}

Result<std::string> MakeCaCsrPem(hsm::TokenKey& key, const std::string& subject) {
  ST_RETURN_IF_ERROR(CheckCaSubject(subject));
  ST_ASSIGN_OR_RETURN(auto csr, pki::MakeCaCsr(subject, key.evp()));
  return pki::CsrPem(csr.get());
}

Result<CaInitResult> InitSelfSignedCa(std::shared_ptr<hsm::Token> token, hsm::KeyAlgorithm algorithm,
                                      const std::string& label, const CaCertRequest& request) {
  ST_RETURN_IF_ERROR(CheckCaSubject(request.subject));  // before a key is made
  CaInitResult out;
  ST_ASSIGN_OR_RETURN(out.key, GenerateCaKey(std::move(token), algorithm, label));
  ST_ASSIGN_OR_RETURN(out.cert_pem, MakeCaCertPem(*out.key.key, request));
  return out;
}

Result<std::vector<X509Ptr>> CheckCaCertificate(const std::string& cert_pem, hsm::TokenKey& key,
                                                const std::string& roots_pem_path) {
  ST_ASSIGN_OR_RETURN(auto certs, pki::ParseCertsPem(cert_pem, "the CA certificate"));
  X509* ca = certs.front().get();
  ST_RETURN_IF_ERROR(issuance::CheckCertMatchesKey(ca, key.evp()));
  if (X509_check_ca(ca) == 0)
    return MakeError(Code::kFailedPrecondition, "CA_CERT_NOT_CA",
                     "the certificate is not a CA certificate (basicConstraints CA:TRUE is missing)");
  if (X509_cmp_current_time(X509_get0_notAfter(ca)) <= 0)
    return MakeError(Code::kFailedPrecondition, "CA_CERT_EXPIRED", "the CA certificate has expired");
  if (roots_pem_path.empty())
    return MakeError(Code::kFailedPrecondition, "CA_ROOT_NOT_CONFIGURED",
                     "set [ca] root to the PEM file of the root(s) this station's CAs must chain to (for a lab's "
                     "self-signed CA, the CA certificate itself)");
  ST_ASSIGN_OR_RETURN(auto roots, pki::ReadCertsPem(roots_pem_path));
  ST_RETURN_IF_ERROR(pki::CheckChainToRoot(certs, roots));
  return certs;
}

}  // namespace station::setup
