#include "station/setup/ca_init.h"

#include "station/issuance/certificate_authority.h"
#include "station/pki/cert_builder.h"
#include "station/pki/files.h"

namespace station::setup {

Result<CaInitResult> InitCa(std::shared_ptr<hsm::Token> token, const CaInitRequest& request, bool make_certificate) {
  if (request.subject.empty())
    return MakeError(Code::kInvalidArgument, "BAD_NAME", "the CA needs a subject, e.g. \"CN=Acme Line CA 1,O=Acme\"");
  ST_ASSIGN_OR_RETURN(auto subject, pki::ParseName(request.subject));  // validate before making a key
  hsm::KeygenRequest keygen;
  keygen.algorithm = request.algorithm;
  keygen.label = request.key_label;
  ST_ASSIGN_OR_RETURN(auto key, hsm::GenerateKeyPair(token, keygen));
  CaInitResult out;
  hsm::Pkcs11Uri uri;
  uri.token = token->label();
  uri.object = key->label();
  uri.type = "private";
  out.key_uri = uri.ToString();
  if (make_certificate) {
    pki::CertSpec spec;
    spec.subject = request.subject;
    spec.validity_days = request.validity_days;
    spec.is_ca = true;
    spec.path_len = request.path_len;
    EVP_PKEY* signer = request.issuer_key ? request.issuer_key->evp() : key->evp();
    ST_ASSIGN_OR_RETURN(auto cert, pki::MakeCert(spec, key->evp(), signer, request.issuer_cert));
    out.cert_pem = pki::CertPem(cert.get());
  } else {
    ST_ASSIGN_OR_RETURN(auto csr, pki::MakeCaCsr(request.subject, key->evp()));
    out.csr_pem = pki::CsrPem(csr.get());
  }
  out.key = std::move(key);
  return out;
}

Status CheckCaCertificate(const std::string& cert_pem, hsm::TokenKey& key) {
  ST_ASSIGN_OR_RETURN(auto certs, pki::ParseCertsPem(cert_pem, "the CA certificate"));
  X509* ca = certs.front().get();
  ST_RETURN_IF_ERROR(issuance::CheckCertMatchesKey(ca, key.evp()));
  if (X509_check_ca(ca) == 0)
    return MakeError(Code::kFailedPrecondition, "CA_CERT_NOT_CA",
                     "the certificate is not a CA certificate (basicConstraints CA:TRUE is missing)");
  if (X509_cmp_current_time(X509_get0_notAfter(ca)) <= 0)
    return MakeError(Code::kFailedPrecondition, "CA_CERT_EXPIRED", "the CA certificate has expired");
  return {};
}

}  // namespace station::setup
