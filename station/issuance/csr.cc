#include "station/issuance/csr.h"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include "station/policy/key_checks.h"

namespace station::issuance {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 4096;

Error Refuse(const std::string& reason, const std::string& message) {
  ERR_clear_error();
  return MakeError(Code::kInvalidArgument, reason, message);
}

Result<std::string> CheckKey(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char curve[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len) != 1)
        return Refuse("KEY_UNSUPPORTED", "the CSR's EC key uses explicit curve parameters; use named curve P-256 or P-384");
      std::string name(curve, len);
      if (name == "prime256v1" || name == "P-256") return std::string("ec-p256");
      if (name == "secp384r1" || name == "P-384") return std::string("ec-p384");
      return Refuse("KEY_UNSUPPORTED", "the CSR's EC key is on curve " + name + "; use P-256 or P-384");
    }
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(key);
      if (bits < kMinRsaBits)
        return Refuse("RSA_TOO_SHORT", "the CSR's RSA key has " + std::to_string(bits) + " bits; at least 2048 are required");
      if (bits > kMaxRsaBits)
        return Refuse("KEY_UNSUPPORTED", "the CSR's RSA key has " + std::to_string(bits) + " bits; at most 4096 are accepted");
      BIGNUM *n = nullptr, *e = nullptr;
      if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
          EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        BN_free(n);
        return Refuse("KEY_UNSUPPORTED", "cannot read the CSR's RSA public key");
      }
      BnPtr modulus(n), exponent(e);
      ST_RETURN_IF_ERROR(policy::CheckRsaPublicKey(modulus.get(), exponent.get()));
      return "rsa-" + std::to_string(bits);
    }
    default:
      return Refuse("KEY_UNSUPPORTED", "the CSR's key is neither EC (P-256, P-384) nor RSA (2048-4096 bits)");
  }
}

}  // namespace

Result<CheckedCsr> CheckCsr(const Bytes& csr_der, size_t max_bytes) {
  if (csr_der.empty()) return Refuse("CSR_EMPTY", "csr_der is empty; send the DER-encoded PKCS#10 request");
  if (csr_der.size() > max_bytes)
    return Refuse("CSR_TOO_LARGE", "the CSR has " + std::to_string(csr_der.size()) + " bytes; the limit is " +
                                       std::to_string(max_bytes));
  const unsigned char* p = csr_der.data();
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size())));
  if (!req) return Refuse("CSR_MALFORMED", "csr_der is not a DER-encoded PKCS#10 request (PEM must be converted to DER)");
  if (p != csr_der.data() + csr_der.size())
    return Refuse("CSR_MALFORMED", "csr_der has " + std::to_string(csr_der.data() + csr_der.size() - p) +
                                       " trailing bytes after the request");
  ST_RETURN_IF_ERROR(policy::CheckEcPublicKey(X509_REQ_get_X509_PUBKEY(req.get())));
  EvpPkeyPtr key(X509_REQ_get_pubkey(req.get()));
  if (!key) return Refuse("KEY_UNSUPPORTED", "the CSR's public key cannot be decoded");
  ST_ASSIGN_OR_RETURN(std::string key_type, CheckKey(key.get()));
  // PKCS#10 4.2: the request is signed with the subject's private key.
  if (X509_REQ_verify(req.get(), key.get()) != 1)
    return Refuse("CSR_BAD_SIGNATURE", "the CSR's signature does not verify with its own public key "
                                       "(proof of possession failed; was the CSR altered?)");
  CheckedCsr out;
  out.request = std::move(req);
  out.public_key = std::move(key);
  out.csr_sha256 = Sha256(csr_der);
  out.key_type = std::move(key_type);
  return out;
}

}  // namespace station::issuance
