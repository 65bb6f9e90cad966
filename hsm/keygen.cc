#include "hsm/keygen.h"

#include "hsm/key_attributes.h"

#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

namespace station::hsm {
namespace {

// DER of the namedCurve OID, what CKA_EC_PARAMS holds (X9.62 ECParameters).
Bytes CurveParams(int nid) {
  OsslPtr<ASN1_OBJECT, ASN1_OBJECT_free> oid(OBJ_nid2obj(nid));
  unsigned char* der = nullptr;
  int len = i2d_ASN1_OBJECT(oid.get(), &der);
  Bytes out;
  if (len > 0) out.assign(der, der + len);
  OPENSSL_free(der);
  return out;
}

CK_ULONG RsaBits(KeyAlgorithm alg) {
  switch (alg) {
    case KeyAlgorithm::kRsa3072: return 3072;
    case KeyAlgorithm::kRsa4096: return 4096;
    default: return 2048;
  }
}

}  // namespace

Result<std::shared_ptr<TokenKey>> GenerateKeyPair(std::shared_ptr<Token> token, const KeygenRequest& request) {
  if (request.label.empty() || request.label.size() > 128)
    return MakeError(Code::kInvalidArgument, "BAD_KEY_LABEL", "a key label has 1 to 128 characters");
  ST_ASSIGN_OR_RETURN(auto existing, FindObjects(*token, CKO_PRIVATE_KEY, request.label, {}));
  if (!existing.empty())
    return MakeError(Code::kAlreadyExists, "KEY_EXISTS",
                     "token '" + token->label() + "' already holds a private key labelled '" + request.label +
                         "'; choose another label (keys are never overwritten)");
  Bytes id = request.id;
  if (id.empty()) {
    id.resize(16);
    if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1)
      return MakeError(Code::kInternal, "RNG_FAILED", "cannot draw a random CKA_ID");
  }

  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY, priv_class = CKO_PRIVATE_KEY;
  const bool ed25519 = request.algorithm == KeyAlgorithm::kEd25519;
  const bool ec = IsEc(request.algorithm) || ed25519;  // both carry CKA_EC_PARAMS
  CK_KEY_TYPE key_type = ed25519 ? CKK_EC_EDWARDS : ec ? CKK_EC : CKK_RSA;
  Bytes ec_params = ed25519                                      ? CurveParams(NID_ED25519)
                    : request.algorithm == KeyAlgorithm::kEcP384 ? CurveParams(NID_secp384r1)
                    : ec                                         ? CurveParams(NID_X9_62_prime256v1)
                                                                 : Bytes{};
  CK_ULONG modulus_bits = RsaBits(request.algorithm);
  CK_BYTE public_exponent[] = {0x01, 0x00, 0x01};
  auto* label = const_cast<char*>(request.label.data());

  std::vector<CK_ATTRIBUTE> pub_tmpl{
      {CKA_CLASS, &pub_class, sizeof pub_class}, {CKA_KEY_TYPE, &key_type, sizeof key_type},
      {CKA_TOKEN, &yes, sizeof yes},             {CKA_VERIFY, &yes, sizeof yes},
      {CKA_ENCRYPT, &no, sizeof no},             {CKA_WRAP, &no, sizeof no},
      {CKA_DERIVE, &no, sizeof no},              {CKA_LABEL, label, request.label.size()},
      {CKA_ID, id.data(), id.size()},
  };
  if (ec) {
    pub_tmpl.push_back({CKA_EC_PARAMS, ec_params.data(), ec_params.size()});
  } else {
    pub_tmpl.push_back({CKA_MODULUS_BITS, &modulus_bits, sizeof modulus_bits});
    pub_tmpl.push_back({CKA_PUBLIC_EXPONENT, public_exponent, sizeof public_exponent});
  }
  std::vector<CK_ATTRIBUTE> priv_tmpl{
      {CKA_CLASS, &priv_class, sizeof priv_class}, {CKA_KEY_TYPE, &key_type, sizeof key_type},
      {CKA_TOKEN, &yes, sizeof yes},               {CKA_PRIVATE, &yes, sizeof yes},
      {CKA_SENSITIVE, &yes, sizeof yes},           {CKA_EXTRACTABLE, &no, sizeof no},
      {CKA_SIGN, &yes, sizeof yes},                {CKA_DECRYPT, &no, sizeof no},
      {CKA_UNWRAP, &no, sizeof no},                {CKA_DERIVE, &no, sizeof no},
      {CKA_SIGN_RECOVER, &no, sizeof no},          {CKA_LABEL, label, request.label.size()},
      {CKA_ID, id.data(), id.size()},
  };
  CK_MECHANISM mech{ed25519 ? CKM_EC_EDWARDS_KEY_PAIR_GEN : ec ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN,
                    nullptr, 0};
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ST_RETURN_IF_ERROR(token->Run(std::string("C_GenerateKeyPair (") + KeyAlgorithmName(request.algorithm) + ")",
                                [&](CK_SESSION_HANDLE session) {
                                  return token->fn()->C_GenerateKeyPair(
                                      session, &mech, pub_tmpl.data(), pub_tmpl.size(), priv_tmpl.data(),
                                      priv_tmpl.size(), &pub, &priv);
                                }));
  Pkcs11Uri key_uri;
  key_uri.id = id;
  key_uri.type = "private";
  ST_ASSIGN_OR_RETURN(auto key, TokenKey::Find(token, key_uri));
  // Read back what the token made: a token may ignore parts of a template.
  if (Status st = RequireSigningOnlyKey(*key, "new key"); !st.ok()) {
    (void)token->Run("C_DestroyObject", [&](CK_SESSION_HANDLE session) {
      token->fn()->C_DestroyObject(session, pub);
      return token->fn()->C_DestroyObject(session, priv);
    });
    return MakeError(st.error().code, st.error().reason,
                     "token '" + token->label() + "' did not make the key as asked, so it was destroyed: " +
                         st.error().message);
  }
  return key;
}

}  // namespace station::hsm
