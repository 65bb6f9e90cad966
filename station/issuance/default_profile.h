// The "default" certificate profile: a TLS client certificate for a device.
//
//   subject          CN = device_id when given, else the CSR's subject
//   validity         notBefore = now - backdate, notAfter = notBefore + validity
//                    (never past the CA's own notAfter)
//   basicConstraints critical, CA:FALSE
//   keyUsage         critical, digitalSignature (+ keyEncipherment for RSA keys)
//   extKeyUsage      clientAuth
//   subjectKeyIdentifier, authorityKeyIdentifier (keyid of the CA)
//
// The extensions that are the same for every certificate are built once.
#pragma once

#include <string>

#include "station/issuance/certificate_authority.h"
#include "station/issuance/csr.h"

namespace station::issuance {

struct ProfileOptions {
  int validity_days = 3650;
  int backdate_seconds = 300;
};

class DefaultProfile {
 public:
  static Result<std::unique_ptr<DefaultProfile>> Create(const ProfileOptions& options, const CertificateAuthority& ca);

  // The unsigned certificate for a checked CSR, with the given serial.
  Result<X509Ptr> Build(const CheckedCsr& csr, const std::string& device_id, const ASN1_INTEGER* serial) const;

 private:
  DefaultProfile(const ProfileOptions& options, const CertificateAuthority& ca) : options_(options), ca_(ca) {}

  ProfileOptions options_;
  const CertificateAuthority& ca_;
  X509ExtPtr basic_constraints_, key_usage_ec_, key_usage_rsa_, ext_key_usage_, authority_key_id_;
};

}  // namespace station::issuance
