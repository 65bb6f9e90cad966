// A device's certificate signing request, checked before anything is built
// from it: bounded size, strict DER, a valid self-signature (proof that the
// device holds the private key), and a key the station accepts.
#pragma once

#include <string>

#include "hsm/error.h"
#include "hsm/ossl.h"

namespace station::issuance {

struct CheckedCsr {
  X509ReqPtr request;
  EvpPkeyPtr public_key;
  Bytes csr_sha256;      // identifies the CSR for retries
  std::string key_type;  // "ec-p256", "ec-p384", "rsa-2048", ...
};

// Refusals are INVALID_ARGUMENT with reason CSR_TOO_LARGE, CSR_EMPTY,
// CSR_MALFORMED, CSR_BAD_SIGNATURE, KEY_UNSUPPORTED, RSA_TOO_SHORT, or one of
// the weak-key reasons of policy/key_checks.h. Accepted keys: EC P-256 and
// P-384; RSA 2048 to 4096 bits. Weak keys are refused before the signature is
// checked, so the reason names the weakness.
Result<CheckedCsr> CheckCsr(const Bytes& csr_der, size_t max_bytes);

}  // namespace station::issuance
