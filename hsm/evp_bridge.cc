// OpenSSL's EC_KEY_METHOD / RSA_METHOD are deprecated in OpenSSL 3 in favour
// of providers, but they remain the supported way (used by libp11 too) to make
// a "foreign" EVP_PKEY whose private operations happen elsewhere.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "hsm/evp_bridge.h"

#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "hsm/key.h"
#include "hsm/objects.h"

namespace station::hsm {
namespace {

thread_local Error t_last_sign_error;

int g_ec_index = -1;
int g_rsa_index = -1;
EC_KEY_METHOD* g_ec_method = nullptr;
RSA_METHOD* g_rsa_method = nullptr;
std::once_flag g_methods_once;

ECDSA_SIG* EcSignSig(const unsigned char* digest, int digest_len, const BIGNUM*, const BIGNUM*,
                     EC_KEY* ec) {
  auto* key = static_cast<TokenKey*>(EC_KEY_get_ex_data(ec, g_ec_index));
  if (key == nullptr || digest_len <= 0) return nullptr;
  auto sig = key->SignRaw(CKM_ECDSA, digest, static_cast<size_t>(digest_len));
  if (!sig.ok()) {
    t_last_sign_error = sig.error();
    return nullptr;
  }
  // PKCS#11 2.40 2.3.1: CKM_ECDSA returns r || s, each as long as the order.
  size_t half = sig->size() / 2;
  if (half == 0 || sig->size() % 2 != 0) {
    t_last_sign_error = MakeError(Code::kInternal, "TOKEN_ERROR", "token returned a malformed ECDSA signature");
    return nullptr;
  }
  BIGNUM* r = BN_bin2bn(sig->data(), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(sig->data() + half, static_cast<int>(half), nullptr);
  ECDSA_SIG* out = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || out == nullptr || ECDSA_SIG_set0(out, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(out);
    return nullptr;
  }
  return out;
}

// RSA_sign hands us the DER DigestInfo with PKCS#1 v1.5 padding requested:
// exactly what CKM_RSA_PKCS signs.
int RsaPrivEnc(int from_len, const unsigned char* from, unsigned char* to, RSA* rsa, int padding) {
  auto* key = static_cast<TokenKey*>(RSA_get_ex_data(rsa, g_rsa_index));
  if (key == nullptr || padding != RSA_PKCS1_PADDING || from_len <= 0) {
    t_last_sign_error = MakeError(Code::kInternal, "TOKEN_ERROR", "only PKCS#1 v1.5 RSA signatures are supported");
    return -1;
  }
  auto sig = key->SignRaw(CKM_RSA_PKCS, from, static_cast<size_t>(from_len));
  if (!sig.ok()) {
    t_last_sign_error = sig.error();
    return -1;
  }
  if (sig->size() > static_cast<size_t>(RSA_size(rsa))) return -1;
  std::copy(sig->begin(), sig->end(), to);
  return static_cast<int>(sig->size());
}

int RsaPrivDec(int, const unsigned char*, unsigned char*, RSA*, int) {
  return -1;  // the station never decrypts with a CA key
}

void InitMethods() {
  g_ec_index = EC_KEY_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  g_rsa_index = RSA_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  g_ec_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
  int (*default_sign)(int, const unsigned char*, int, unsigned char*, unsigned int*, const BIGNUM*,
                      const BIGNUM*, EC_KEY*) = nullptr;
  EC_KEY_METHOD_get_sign(g_ec_method, &default_sign, nullptr, nullptr);
  // The default `sign` DER-encodes what `sign_sig` returns; no sign_setup: the
  // token draws its own nonce.
  EC_KEY_METHOD_set_sign(g_ec_method, default_sign, nullptr, EcSignSig);
  g_rsa_method = RSA_meth_dup(RSA_PKCS1_OpenSSL());
  RSA_meth_set1_name(g_rsa_method, "station PKCS#11 RSA");
  RSA_meth_set_priv_enc(g_rsa_method, RsaPrivEnc);
  RSA_meth_set_priv_dec(g_rsa_method, RsaPrivDec);
}

Result<KeyAlgorithm> EcAlgorithm(const EC_GROUP* group) {
  switch (EC_GROUP_get_curve_name(group)) {
    case NID_X9_62_prime256v1: return KeyAlgorithm::kEcP256;
    case NID_secp384r1: return KeyAlgorithm::kEcP384;
    default:
      return MakeError(Code::kFailedPrecondition, "UNSUPPORTED_CA_KEY", "CA key curve is not P-256 or P-384");
  }
}

}  // namespace

Error TakeLastBridgeError() {
  if (t_last_sign_error.reason.empty())
    return MakeError(Code::kInternal, "SIGNING_FAILED", "signing failed: " + OpenSslErrors());
  Error e = t_last_sign_error;
  t_last_sign_error = Error{};
  return e;
}

Result<BridgedKey> BridgeTokenKey(Token& token, CK_OBJECT_HANDLE public_handle, TokenKey* signer) {
  std::call_once(g_methods_once, InitMethods);
  BridgedKey out;
  ST_ASSIGN_OR_RETURN(Bytes type_bytes, ReadAttribute(token, public_handle, CKA_KEY_TYPE));
  CK_KEY_TYPE key_type = CKK_VENDOR_DEFINED;
  if (type_bytes.size() == sizeof key_type) std::memcpy(&key_type, type_bytes.data(), sizeof key_type);
  EvpPkeyPtr pkey(EVP_PKEY_new());
  if (key_type == CKK_EC) {
    ST_ASSIGN_OR_RETURN(Bytes params, ReadAttribute(token, public_handle, CKA_EC_PARAMS));
    ST_ASSIGN_OR_RETURN(Bytes point, ReadAttribute(token, public_handle, CKA_EC_POINT));
    const unsigned char* p = params.data();
    OsslPtr<EC_GROUP, EC_GROUP_free> group(d2i_ECPKParameters(nullptr, &p, static_cast<long>(params.size())));
    if (!group) return MakeError(Code::kInternal, "TOKEN_ERROR", "cannot parse CKA_EC_PARAMS: " + OpenSslErrors());
    ST_ASSIGN_OR_RETURN(out.algorithm, EcAlgorithm(group.get()));
    // CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 2.40).
    const unsigned char* q = point.data();
    Asn1OctetStringPtr octets(d2i_ASN1_OCTET_STRING(nullptr, &q, static_cast<long>(point.size())));
    const unsigned char* raw = octets ? ASN1_STRING_get0_data(octets.get()) : point.data();
    size_t raw_len = octets ? static_cast<size_t>(ASN1_STRING_length(octets.get())) : point.size();
    EC_KEY* ec = EC_KEY_new();
    OsslPtr<EC_POINT, EC_POINT_free> pub(EC_POINT_new(group.get()));
    if (ec == nullptr || !pub || EC_KEY_set_method(ec, g_ec_method) != 1 ||
        EC_KEY_set_group(ec, group.get()) != 1 ||
        EC_POINT_oct2point(group.get(), pub.get(), raw, raw_len, nullptr) != 1 ||
        EC_KEY_set_public_key(ec, pub.get()) != 1 || EC_KEY_set_ex_data(ec, g_ec_index, signer) != 1 ||
        EVP_PKEY_assign_EC_KEY(pkey.get(), ec) != 1) {
      EC_KEY_free(ec);
      return MakeError(Code::kInternal, "TOKEN_ERROR", "cannot build the EC public key: " + OpenSslErrors());
    }
  } else if (key_type == CKK_RSA) {
    ST_ASSIGN_OR_RETURN(Bytes modulus, ReadAttribute(token, public_handle, CKA_MODULUS));
    ST_ASSIGN_OR_RETURN(Bytes exponent, ReadAttribute(token, public_handle, CKA_PUBLIC_EXPONENT));
    BIGNUM* n = BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr);
    BIGNUM* e = BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr);
    RSA* rsa = RSA_new();
    if (n == nullptr || e == nullptr || rsa == nullptr || RSA_set0_key(rsa, n, e, nullptr) != 1) {
      BN_free(n);
      BN_free(e);
      RSA_free(rsa);
      return MakeError(Code::kInternal, "TOKEN_ERROR", "cannot build the RSA public key");
    }
    int bits = RSA_bits(rsa);
    if (bits == 2048) out.algorithm = KeyAlgorithm::kRsa2048;
    else if (bits == 3072) out.algorithm = KeyAlgorithm::kRsa3072;
    else if (bits == 4096) out.algorithm = KeyAlgorithm::kRsa4096;
    else {
      RSA_free(rsa);
      return MakeError(Code::kFailedPrecondition, "UNSUPPORTED_CA_KEY",
                       "CA key is RSA-" + std::to_string(bits) + "; use 2048, 3072 or 4096 bits");
    }
    if (RSA_set_method(rsa, g_rsa_method) != 1 || RSA_set_ex_data(rsa, g_rsa_index, signer) != 1 ||
        EVP_PKEY_assign_RSA(pkey.get(), rsa) != 1) {
      RSA_free(rsa);
      return MakeError(Code::kInternal, "TOKEN_ERROR", "cannot build the RSA key: " + OpenSslErrors());
    }
  } else if (key_type == CKK_EC_EDWARDS) {
    ST_ASSIGN_OR_RETURN(Bytes point, ReadAttribute(token, public_handle, CKA_EC_POINT));
    // SoftHSM wraps the 32-byte key in an OCTET STRING; some tokens do not.
    const unsigned char* q = point.data();
    Asn1OctetStringPtr octets(d2i_ASN1_OCTET_STRING(nullptr, &q, static_cast<long>(point.size())));
    const unsigned char* raw = octets ? ASN1_STRING_get0_data(octets.get()) : point.data();
    size_t raw_len = octets ? static_cast<size_t>(ASN1_STRING_length(octets.get())) : point.size();
    if (raw_len != 32) return MakeError(Code::kFailedPrecondition, "UNSUPPORTED_KEY", "EdDSA key is not Ed25519");
    pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw, raw_len));
    if (!pkey) return MakeError(Code::kInternal, "TOKEN_ERROR", "cannot build the Ed25519 key: " + OpenSslErrors());
    out.algorithm = KeyAlgorithm::kEd25519;
  } else {
    return MakeError(Code::kFailedPrecondition, "UNSUPPORTED_KEY", "key is neither EC, RSA nor Ed25519");
  }
  out.evp = std::move(pkey);
  return out;
}

}  // namespace station::hsm
