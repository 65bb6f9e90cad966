// A profile made ready to issue: its CA, and everything about the
// certificate that is the same every time (extensions, attribute types)
// built once. Build() fills in the rest from one checked request.
//
// Every certificate gets, beside what the profile asks for:
//   basicConstraints  critical, CA:FALSE (RFC 5280 4.2.1.9)
//   keyUsage          critical (RFC 5280 4.2.1.3 SHOULD)
//   subjectKeyIdentifier  RFC 5280 4.2.1.2 method 1, non-critical
//   authorityKeyIdentifier  the CA's subjectKeyIdentifier, non-critical (MUST, 4.2.1.1)
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "station/issuance/issuer.h"
#include "station/issuance/csr.h"
#include "station/policy/profile.h"

namespace station::issuance {

// A certificate ready to be signed: its TBSCertificate in DER, and the
// subject it names (for the audit record).
struct UnsignedCertificate {
  Bytes tbs_der;
  X509NamePtr subject;
};

class CertificateProfile {
 public:
  // Refuses a profile whose extensions OpenSSL cannot build (BAD_PROFILE).
  static Result<std::unique_ptr<CertificateProfile>> Create(policy::Profile profile, std::shared_ptr<Issuer> issuer);

  // The unsigned certificate, encoded directly (no X509 object: see
  // pki/certificate_der.h). INVALID_ARGUMENT for a request the templates
  // cannot be filled from: DEVICE_ID_REQUIRED, ATTRIBUTE_MISSING,
  // SUBJECT_MISSING, SUBJECT_INVALID, SUBJECT_ISSUER_MISMATCH, SAN_INVALID.
  // `ca` is the CA the caller holds a lease on and will sign with
  // (CertificateAuthority::Sign).
  Result<UnsignedCertificate> Build(const CheckedCsr& csr, const policy::TemplateInput& input,
                                    const ASN1_INTEGER* serial, const CertificateAuthority& ca) const;

  const policy::Profile& profile() const noexcept { return profile_; }
  Issuer& issuer() const noexcept { return *issuer_; }

  // Who may use the profile now: the file's `lines` until officers change
  // them. Requests read it while an officer's change swaps it whole.
  std::shared_ptr<const policy::LineSet> lines() const { return lines_.load(); }
  void SetLines(policy::LineSet lines) { lines_.store(std::make_shared<const policy::LineSet>(std::move(lines))); }

 private:
  CertificateProfile(policy::Profile profile, std::shared_ptr<Issuer> issuer)
      : profile_(std::move(profile)),
        issuer_(std::move(issuer)),
        lines_(std::make_shared<const policy::LineSet>(profile_.lines)) {}

  Result<X509NamePtr> Subject(const CheckedCsr& csr, const policy::TemplateInput& input,
                              const CertificateAuthority& ca) const;
  // Each appends its extensions' DER to an Extensions body.
  Status AddSan(Bytes& extensions, const policy::TemplateInput& input) const;
  Status AddExtraExtensions(Bytes& extensions, const policy::TemplateInput& input) const;
  Result<Bytes> Validity(const CertificateAuthority& ca) const;  // the Validity SEQUENCE

  policy::Profile profile_;
  std::shared_ptr<Issuer> issuer_;
  std::atomic<std::shared_ptr<const policy::LineSet>> lines_;
  std::vector<OsslPtr<ASN1_OBJECT, ASN1_OBJECT_free>> subject_types_;  // one per profile_.subject
  X509ExtPtr basic_constraints_, key_usage_, rsa_key_usage_, ext_key_usage_;
  std::vector<X509ExtPtr> fixed_extensions_;  // [[extension]] with der, in order; null where utf8
};

}  // namespace station::issuance
