// The kinds of key the station keeps in a token, by the names its commands
// and configs use.
#pragma once

#include <string>

#include "station/base/error.h"

namespace station::hsm {

// Ed25519 keys sign audit checkpoints only (CKM_EDDSA through SignRaw); their
// evp() holds just the public key, so they cannot be used as a CA key.
enum class KeyAlgorithm { kEcP256, kEcP384, kRsa2048, kRsa3072, kRsa4096, kEd25519 };

// "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519".
Result<KeyAlgorithm> ParseKeyAlgorithm(const std::string& name);
const char* KeyAlgorithmName(KeyAlgorithm alg) noexcept;
bool IsEc(KeyAlgorithm alg) noexcept;  // ECDSA (P-256, P-384); not Ed25519

}  // namespace station::hsm
