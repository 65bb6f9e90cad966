// The bridge between OpenSSL and the token: an EVP_PKEY whose public half is
// ordinary key material read from the token's public key object and whose
// private operations (ECDSA, PKCS#1 v1.5 RSA) call TokenKey::SignRaw, so
// X509_sign and X509_REQ_sign sign in the token.
#pragma once

#include "hsm/key_algorithm.h"
#include "hsm/token.h"
#include "station/base/ossl.h"

namespace station::hsm {

class TokenKey;

struct BridgedKey {
  EvpPkeyPtr evp;
  KeyAlgorithm algorithm = KeyAlgorithm::kEcP256;
};

// From the public key object; `signer` must outlive the key. FAILED_PRECONDITION
// UNSUPPORTED_CA_KEY / UNSUPPORTED_KEY for a curve, size or type the station
// does not use. An Ed25519 key gets its public half only (no bridge).
Result<BridgedKey> BridgeTokenKey(Token& token, CK_OBJECT_HANDLE public_handle, TokenKey* signer);

// The error of the last signing call made through a bridged key on this
// thread (OpenSSL's callbacks cannot carry it back), then cleared.
Error TakeLastBridgeError();

}  // namespace station::hsm
