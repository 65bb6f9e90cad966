// OpenSSL's EC_KEY_METHOD / RSA_METHOD are deprecated in OpenSSL 3 in favour
// of providers, but they remain the supported way (used by libp11 too) to make
// a "foreign" EVP_PKEY whose private operations happen elsewhere.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "hsm/key.h"

#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstring>
#include <mutex>

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

Error TokenKey::LastSignError() {
  if (t_last_sign_error.reason.empty())
    return MakeError(Code::kInternal, "SIGNING_FAILED", "signing failed: " + OpenSslErrors());
  Error e = t_last_sign_error;
  t_last_sign_error = Error{};
  return e;
}

Result<Bytes> ReadAttribute(Token& token, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  Bytes value;
  Status st = token.Run("C_GetAttributeValue", [&](CK_SESSION_HANDLE session) {
    CK_ATTRIBUTE attr{type, nullptr, 0};
    CK_RV rv = token.fn()->C_GetAttributeValue(session, object, &attr, 1);
    if (rv != CKR_OK) return rv;
    if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION) return static_cast<CK_RV>(CKR_ATTRIBUTE_SENSITIVE);
    value.resize(attr.ulValueLen);
    attr.pValue = value.data();
    return token.fn()->C_GetAttributeValue(session, object, &attr, 1);
  });
  if (!st.ok()) return st.error();
  return value;
}

Result<std::vector<CK_OBJECT_HANDLE>> FindObjects(Token& token, CK_OBJECT_CLASS klass,
                                                  const std::string& label, const Bytes& id) {
  std::vector<CK_OBJECT_HANDLE> found;
  Status st = token.Run("C_FindObjects", [&](CK_SESSION_HANDLE session) {
    found.clear();
    std::vector<CK_ATTRIBUTE> tmpl{{CKA_CLASS, &klass, sizeof klass}};
    if (!label.empty()) tmpl.push_back({CKA_LABEL, const_cast<char*>(label.data()), label.size()});
    if (!id.empty()) tmpl.push_back({CKA_ID, const_cast<uint8_t*>(id.data()), id.size()});
    CK_RV rv = token.fn()->C_FindObjectsInit(session, tmpl.data(), tmpl.size());
    if (rv != CKR_OK) return rv;
    CK_OBJECT_HANDLE batch[16];
    CK_ULONG n = 0;
    constexpr size_t kMaxObjects = 1024;  // a bound on a hostile or odd token
    while ((rv = token.fn()->C_FindObjects(session, batch, 16, &n)) == CKR_OK && n > 0 &&
           found.size() < kMaxObjects)
      found.insert(found.end(), batch, batch + n);
    CK_RV final_rv = token.fn()->C_FindObjectsFinal(session);
    return rv != CKR_OK ? rv : final_rv;
  });
  if (!st.ok()) return st.error();
  return found;
}

Result<std::shared_ptr<TokenKey>> TokenKey::Find(std::shared_ptr<Token> token, const Pkcs11Uri& key_uri) {
  std::call_once(g_methods_once, InitMethods);
  if (key_uri.object.empty() && key_uri.id.empty())
    return MakeError(Code::kInvalidArgument, "BAD_PKCS11_URI",
                     "key URI " + key_uri.ToString() + " names no key (add object= or id=)");
  ST_ASSIGN_OR_RETURN(auto privs, FindObjects(*token, CKO_PRIVATE_KEY, key_uri.object, key_uri.id));
  if (privs.empty())
    return MakeError(Code::kFailedPrecondition, "KEY_NOT_FOUND",
                     "no private key matches " + key_uri.ToString() + " on token '" + token->label() + "'");
  if (privs.size() > 1)
    return MakeError(Code::kFailedPrecondition, "KEY_AMBIGUOUS",
                     std::to_string(privs.size()) + " private keys match " + key_uri.ToString());
  ST_ASSIGN_OR_RETURN(Bytes id, ReadAttribute(*token, privs[0], CKA_ID));
  ST_ASSIGN_OR_RETURN(Bytes label, ReadAttribute(*token, privs[0], CKA_LABEL));
  if (id.empty())
    return MakeError(Code::kFailedPrecondition, "KEY_WITHOUT_ID",
                     "private key " + key_uri.ToString() + " has no CKA_ID; its public key cannot be paired with it");
  ST_ASSIGN_OR_RETURN(auto pubs, FindObjects(*token, CKO_PUBLIC_KEY, "", id));
  if (pubs.empty())
    return MakeError(Code::kFailedPrecondition, "KEY_NOT_FOUND",
                     "no public key object with the CKA_ID of " + key_uri.ToString());
  std::shared_ptr<TokenKey> key(
      new TokenKey(std::move(token), privs[0], std::string(label.begin(), label.end()), std::move(id)));
  ST_RETURN_IF_ERROR(key->BuildEvp(pubs[0]));
  return key;
}

TokenKey::~TokenKey() = default;

Status TokenKey::BuildEvp(CK_OBJECT_HANDLE public_handle) {
  ST_ASSIGN_OR_RETURN(Bytes type_bytes, ReadAttribute(*token_, public_handle, CKA_KEY_TYPE));
  CK_KEY_TYPE key_type = CKK_VENDOR_DEFINED;
  if (type_bytes.size() == sizeof key_type) std::memcpy(&key_type, type_bytes.data(), sizeof key_type);
  EvpPkeyPtr pkey(EVP_PKEY_new());
  if (key_type == CKK_EC) {
    ST_ASSIGN_OR_RETURN(Bytes params, ReadAttribute(*token_, public_handle, CKA_EC_PARAMS));
    ST_ASSIGN_OR_RETURN(Bytes point, ReadAttribute(*token_, public_handle, CKA_EC_POINT));
    const unsigned char* p = params.data();
    OsslPtr<EC_GROUP, EC_GROUP_free> group(d2i_ECPKParameters(nullptr, &p, static_cast<long>(params.size())));
    if (!group) return MakeError(Code::kInternal, "TOKEN_ERROR", "cannot parse CKA_EC_PARAMS: " + OpenSslErrors());
    ST_ASSIGN_OR_RETURN(algorithm_, EcAlgorithm(group.get()));
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
        EC_KEY_set_public_key(ec, pub.get()) != 1 || EC_KEY_set_ex_data(ec, g_ec_index, this) != 1 ||
        EVP_PKEY_assign_EC_KEY(pkey.get(), ec) != 1) {
      EC_KEY_free(ec);
      return MakeError(Code::kInternal, "TOKEN_ERROR", "cannot build the EC public key: " + OpenSslErrors());
    }
  } else if (key_type == CKK_RSA) {
    ST_ASSIGN_OR_RETURN(Bytes modulus, ReadAttribute(*token_, public_handle, CKA_MODULUS));
    ST_ASSIGN_OR_RETURN(Bytes exponent, ReadAttribute(*token_, public_handle, CKA_PUBLIC_EXPONENT));
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
    if (bits == 2048) algorithm_ = KeyAlgorithm::kRsa2048;
    else if (bits == 3072) algorithm_ = KeyAlgorithm::kRsa3072;
    else if (bits == 4096) algorithm_ = KeyAlgorithm::kRsa4096;
    else {
      RSA_free(rsa);
      return MakeError(Code::kFailedPrecondition, "UNSUPPORTED_CA_KEY",
                       "CA key is RSA-" + std::to_string(bits) + "; use 2048, 3072 or 4096 bits");
    }
    if (RSA_set_method(rsa, g_rsa_method) != 1 || RSA_set_ex_data(rsa, g_rsa_index, this) != 1 ||
        EVP_PKEY_assign_RSA(pkey.get(), rsa) != 1) {
      RSA_free(rsa);
      return MakeError(Code::kInternal, "TOKEN_ERROR", "cannot build the RSA key: " + OpenSslErrors());
    }
  } else if (key_type == CKK_EC_EDWARDS) {
    ST_ASSIGN_OR_RETURN(Bytes point, ReadAttribute(*token_, public_handle, CKA_EC_POINT));
    // SoftHSM wraps the 32-byte key in an OCTET STRING; some tokens do not.
    const unsigned char* q = point.data();
    Asn1OctetStringPtr octets(d2i_ASN1_OCTET_STRING(nullptr, &q, static_cast<long>(point.size())));
    const unsigned char* raw = octets ? ASN1_STRING_get0_data(octets.get()) : point.data();
    size_t raw_len = octets ? static_cast<size_t>(ASN1_STRING_length(octets.get())) : point.size();
    if (raw_len != 32) return MakeError(Code::kFailedPrecondition, "UNSUPPORTED_KEY", "EdDSA key is not Ed25519");
    pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw, raw_len));
    if (!pkey) return MakeError(Code::kInternal, "TOKEN_ERROR", "cannot build the Ed25519 key: " + OpenSslErrors());
    algorithm_ = KeyAlgorithm::kEd25519;
  } else {
    return MakeError(Code::kFailedPrecondition, "UNSUPPORTED_KEY", "key is neither EC, RSA nor Ed25519");
  }
  evp_ = std::move(pkey);
  return {};
}

const EVP_MD* TokenKey::digest() const noexcept {
  return algorithm_ == KeyAlgorithm::kEcP384 ? EVP_sha384() : EVP_sha256();
}

Status TokenKey::Refind() {
  ST_ASSIGN_OR_RETURN(auto privs, FindObjects(*token_, CKO_PRIVATE_KEY, "", id_));
  if (privs.size() != 1)
    return MakeError(Code::kUnavailable, "KEY_NOT_FOUND", "key '" + label_ + "' is no longer on the token");
  std::lock_guard<std::mutex> lock(handle_mu_);
  private_handle_ = privs[0];
  return {};
}

Result<Bytes> TokenKey::SignRaw(CK_MECHANISM_TYPE mechanism, const uint8_t* data, size_t len) {
  Bytes sig(1024);  // RSA-4096 needs 512; ECDSA P-384 needs 96
  CK_ULONG sig_len = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    CK_OBJECT_HANDLE handle;
    {
      std::lock_guard<std::mutex> lock(handle_mu_);
      handle = private_handle_;
    }
    CK_RV last_rv = CKR_OK;
    Status st = token_->Run("C_Sign with key '" + label_ + "'", [&](CK_SESSION_HANDLE session) {
      CK_MECHANISM mech{mechanism, nullptr, 0};
      CK_RV rv = token_->fn()->C_SignInit(session, &mech, handle);
      if (rv == CKR_OK) {
        sig_len = sig.size();
        rv = token_->fn()->C_Sign(session, const_cast<uint8_t*>(data), len, sig.data(), &sig_len);
      }
      last_rv = rv;
      return rv;
    });
    if (st.ok()) {
      sig.resize(sig_len);
      return sig;
    }
    // Object handles may not survive a token restart: find the key again once
    // (not when logging in again failed: then the key is hidden, not gone).
    if (attempt == 0 && (last_rv == CKR_KEY_HANDLE_INVALID || last_rv == CKR_OBJECT_HANDLE_INVALID) &&
        st.error().fault != Fault::kLoginFailed) {
      ST_RETURN_IF_ERROR(Refind());
      continue;
    }
    return st.error();
  }
  return MakeError(Code::kUnavailable, "TOKEN_UNAVAILABLE", "signing with key '" + label_ + "' failed");
}

CK_OBJECT_HANDLE TokenKey::private_handle() {
  std::lock_guard<std::mutex> lock(handle_mu_);
  return private_handle_;
}

Result<Bytes> TokenKey::PrivateAttribute(CK_ATTRIBUTE_TYPE type) { return ReadAttribute(*token_, private_handle(), type); }

Result<bool> TokenKey::PrivateBoolAttribute(CK_ATTRIBUTE_TYPE type) {
  ST_ASSIGN_OR_RETURN(Bytes value, PrivateAttribute(type));
  if (value.size() != sizeof(CK_BBOOL))
    return MakeError(Code::kInternal, "TOKEN_ERROR", "attribute is not a CK_BBOOL");
  return value[0] != CK_FALSE;
}

}  // namespace station::hsm
