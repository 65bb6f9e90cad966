#include "hsm/key_algorithm.h"

namespace station::hsm {

Result<KeyAlgorithm> ParseKeyAlgorithm(const std::string& name) {
  if (name == "ec-p256") return KeyAlgorithm::kEcP256;
  if (name == "ec-p384") return KeyAlgorithm::kEcP384;
  if (name == "rsa-2048") return KeyAlgorithm::kRsa2048;
  if (name == "rsa-3072") return KeyAlgorithm::kRsa3072;
  if (name == "rsa-4096") return KeyAlgorithm::kRsa4096;
  if (name == "ed25519") return KeyAlgorithm::kEd25519;
  return MakeError(Code::kInvalidArgument, "UNSUPPORTED_KEY_ALGORITHM",
                   "unknown key algorithm '" + name + "' (use ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519)");
}

const char* KeyAlgorithmName(KeyAlgorithm alg) noexcept {
  switch (alg) {
    case KeyAlgorithm::kEcP256: return "ec-p256";
    case KeyAlgorithm::kEcP384: return "ec-p384";
    case KeyAlgorithm::kRsa2048: return "rsa-2048";
    case KeyAlgorithm::kRsa3072: return "rsa-3072";
    case KeyAlgorithm::kRsa4096: return "rsa-4096";
    case KeyAlgorithm::kEd25519: return "ed25519";
  }
  return "unknown";
}

bool IsEc(KeyAlgorithm alg) noexcept {
  return alg == KeyAlgorithm::kEcP256 || alg == KeyAlgorithm::kEcP384;
}

}  // namespace station::hsm
