// A device's certificate signing request, checked before anything is built
// from it: bounded size, strict DER, a valid self-signature (proof that the
// device holds the private key), and a key the station accepts.
#pragma once

#include <string>

#include "station/base/error.h"
#include "station/pki/x509.h"

namespace station::issuance {

struct CheckedCsr {
  X509NamePtr subject;   // the device's, rebuilt from its values (DER); may have no entries
  Bytes spki_der;        // its SubjectPublicKeyInfo, re-encoded from the parsed key: what the certificate carries
  Bytes key_identifier;  // RFC 5280 4.2.1.2 (1): SHA-1 of the subjectPublicKey bits
  EvpPkeyPtr public_key;
  Bytes csr_sha256;      // identifies the CSR for retries
  std::string key_type;  // "ec-p256", "ec-p384", "rsa-2048", ...
  bool rsa = false;
};

// Refusals are INVALID_ARGUMENT with reason CSR_TOO_LARGE, CSR_EMPTY,
// CSR_MALFORMED, CSR_BAD_SIGNATURE, KEY_UNSUPPORTED, KEY_NOT_CANONICAL (a key
// in another encoding than its one DER form: one key, one certificate),
// SUBJECT_INVALID (control characters, NUL, or a string type other than
// UTF8String, PrintableString, IA5String), RSA_TOO_SHORT, or one of the
// weak-key reasons of policy/key_checks.h. Accepted keys: EC P-256 and
// P-384; RSA 2048 to 4096 bits; signatures ECDSA or PKCS#1 v1.5 with SHA-256,
// SHA-384 or SHA-512. Weak keys are refused before the signature is checked,
// so the reason names the weakness.
//
// The request is read with pki/der.h, not d2i_X509_REQ: OpenSSL 3.0 decodes a
// parsed public key through its decoder framework, several times the cost of
// the signature check itself.
Result<CheckedCsr> CheckCsr(const Bytes& csr_der, size_t max_bytes);

}  // namespace station::issuance
