#include "station/issuance/default_profile.h"

#include <openssl/x509v3.h>

#include "station/pki/cert_builder.h"

namespace station::issuance {
namespace {

Error BuildError(const std::string& what) {
  return MakeError(Code::kInternal, "CERT_BUILD_FAILED", what + ": " + OpenSslErrors());
}

}  // namespace

Result<std::unique_ptr<DefaultProfile>> DefaultProfile::Create(const ProfileOptions& options,
                                                               const CertificateAuthority& ca) {
  std::unique_ptr<DefaultProfile> p(new DefaultProfile(options, ca));
  ST_ASSIGN_OR_RETURN(p->basic_constraints_, pki::MakeExtension(NID_basic_constraints, "critical,CA:FALSE"));
  ST_ASSIGN_OR_RETURN(p->key_usage_ec_, pki::MakeExtension(NID_key_usage, "critical,digitalSignature"));
  ST_ASSIGN_OR_RETURN(p->key_usage_rsa_,
                      pki::MakeExtension(NID_key_usage, "critical,digitalSignature,keyEncipherment"));
  ST_ASSIGN_OR_RETURN(p->ext_key_usage_, pki::MakeExtension(NID_ext_key_usage, "clientAuth"));
  // RFC 5280 4.2.1.1: keyIdentifier from the CA's own subjectKeyIdentifier.
  OsslPtr<AUTHORITY_KEYID, AUTHORITY_KEYID_free> akid(AUTHORITY_KEYID_new());
  akid->keyid = ASN1_OCTET_STRING_new();
  if (ASN1_OCTET_STRING_set(akid->keyid, ca.key_id().data(), static_cast<int>(ca.key_id().size())) != 1)
    return BuildError("authorityKeyIdentifier");
  p->authority_key_id_.reset(X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid.get()));
  if (!p->authority_key_id_) return BuildError("authorityKeyIdentifier");
  return p;
}

Result<X509Ptr> DefaultProfile::Build(const CheckedCsr& csr, const std::string& device_id,
                                      const ASN1_INTEGER* serial) const {
  X509Ptr cert(X509_new());
  X509NamePtr subject;
  if (!device_id.empty()) {
    subject.reset(X509_NAME_new());
    if (X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(device_id.data()),
                                   static_cast<int>(device_id.size()), -1, 0) != 1)
      return MakeError(Code::kInvalidArgument, "DEVICE_ID_INVALID", "device_id cannot be a common name");
  } else {
    X509_NAME* from_csr = X509_REQ_get_subject_name(csr.request.get());
    if (from_csr == nullptr || X509_NAME_entry_count(from_csr) == 0)
      return MakeError(Code::kInvalidArgument, "SUBJECT_MISSING",
                       "the CSR has an empty subject and the request has no device_id; send one of them");
    subject.reset(X509_NAME_dup(from_csr));
  }
  // notAfter never outlives the CA: a chain that expires before its leaf is a trap.
  time_t now = time(nullptr);
  time_t not_before = now - options_.backdate_seconds;
  time_t not_after = not_before + static_cast<time_t>(options_.validity_days) * 86400;
  const ASN1_TIME* ca_not_after = X509_get0_notAfter(ca_.cert());
  if (X509_cmp_time(ca_not_after, &not_after) < 0) {
    struct tm tm {};
    if (ASN1_TIME_to_tm(ca_not_after, &tm) == 1) not_after = timegm(&tm);
  }
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(cert.get(), const_cast<ASN1_INTEGER*>(serial)) != 1 ||
      X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_.cert())) != 1 ||
      X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &not_before) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, 0, &not_after) == nullptr ||
      X509_set_pubkey(cert.get(), csr.public_key.get()) != 1)
    return BuildError("certificate fields");
  bool rsa = EVP_PKEY_get_base_id(csr.public_key.get()) == EVP_PKEY_RSA;
  Bytes ski = pki::KeyIdentifier(X509_get_X509_PUBKEY(cert.get()));
  Asn1OctetStringPtr ski_octets(ASN1_OCTET_STRING_new());
  if (ski.empty() || ASN1_OCTET_STRING_set(ski_octets.get(), ski.data(), static_cast<int>(ski.size())) != 1 ||
      X509_add_ext(cert.get(), basic_constraints_.get(), -1) != 1 ||
      X509_add_ext(cert.get(), rsa ? key_usage_rsa_.get() : key_usage_ec_.get(), -1) != 1 ||
      X509_add_ext(cert.get(), ext_key_usage_.get(), -1) != 1 ||
      X509_add1_ext_i2d(cert.get(), NID_subject_key_identifier, ski_octets.get(), 0, X509V3_ADD_DEFAULT) != 1 ||
      X509_add_ext(cert.get(), authority_key_id_.get(), -1) != 1)
    return BuildError("certificate extensions");
  return cert;
}

}  // namespace station::issuance
