// Device keys and CSRs for tests, including broken ones.
#pragma once

#include <string>

#include "station/base/ossl.h"

namespace station::testing {

struct TestCsr {
  EvpPkeyPtr key;
  Bytes der;
};

// A valid CSR for a fresh key ("ec-p256", "ec-p384", "ec-p521", "rsa-1024", "rsa-2048", ...)
// with subject CN=cn.
TestCsr MakeCsr(const std::string& key_type, const std::string& cn = "test-device");

// A CSR signed by the given key (which may be a crafted weak one).
Bytes MakeCsrForKey(EVP_PKEY* key, const std::string& cn = "test-device");

// Crafted weak RSA keys (2048 bits, real private keys that sign their CSR):
// "small-factor" (n = 65521 * q), "fermat" (p and q adjacent primes),
// "roca" (primes of Infineon RSALib's form), "exponent-3" (e = 3).
EvpPkeyPtr MakeWeakRsaKey(const std::string& weakness);

// A P-256 CSR whose public point is replaced: "off-curve" or "infinity".
Bytes MakeCsrWithBadEcPoint(const std::string& which);

// A CSR put together from DER parts as a hostile device would: `spki_der`
// and `subject_der` go in byte for byte, and `key` signs the result (SHA-256),
// so only the encodings under test differ from a valid request.
Bytes MakeCsrFromParts(EVP_PKEY* key, const Bytes& spki_der, const Bytes& subject_der);
// The DER of Name CN=cn (UTF8String).
Bytes SubjectDer(const std::string& cn);

// The same CSR with one byte of its signature flipped.
Bytes TamperSignature(const Bytes& der);

}  // namespace station::testing
