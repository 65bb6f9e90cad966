// A private key that lives in the token: found once (its handle kept), signed
// with by C_Sign (SignRaw), and usable wherever OpenSSL wants an EVP_PKEY
// (evp(), through evp_bridge.h). The private key never leaves the token.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "hsm/key_algorithm.h"
#include "hsm/objects.h"
#include "hsm/token.h"
#include "hsm/uri.h"
#include "station/base/ossl.h"

namespace station::hsm {

class TokenKey {
 public:
  // Finds the private key named by the URI's object= and/or id= attributes
  // (exactly one must match), and its public key by the same CKA_ID. The
  // object handle is found once and kept: a network HSM makes every search a
  // round trip.
  static Result<std::shared_ptr<TokenKey>> Find(std::shared_ptr<Token> token, const Pkcs11Uri& key_uri);

  ~TokenKey();
  TokenKey(const TokenKey&) = delete;
  TokenKey& operator=(const TokenKey&) = delete;

  // The key as OpenSSL sees it; signing with it signs in the token. Valid as
  // long as this TokenKey lives.
  EVP_PKEY* evp() const noexcept { return evp_.get(); }

  // The digest the station signs certificates with under this key:
  // SHA-384 for P-384, SHA-256 otherwise.
  const EVP_MD* digest() const noexcept;

  // One C_Sign with the given mechanism (CKM_ECDSA over a digest, CKM_RSA_PKCS
  // over a DigestInfo, CKM_EDDSA over the whole message). Thread-safe: each call leases its own session.
  Result<Bytes> SignRaw(CK_MECHANISM_TYPE mechanism, const uint8_t* data, size_t len);

  // Reads a CK_BBOOL attribute of the private key object (CKA_SENSITIVE,
  // CKA_EXTRACTABLE, ...), for checks and tests.
  Result<bool> PrivateBoolAttribute(CK_ATTRIBUTE_TYPE type);

  // Reads any attribute of the private key; the token refuses
  // (CKR_ATTRIBUTE_SENSITIVE) for the secret parts. Exists so tests can
  // prove that refusal.
  Result<Bytes> PrivateAttribute(CK_ATTRIBUTE_TYPE type);

  // The private key's object handle (for reading its attributes).
  CK_OBJECT_HANDLE private_handle();

  const std::string& label() const noexcept { return label_; }
  const Bytes& id() const noexcept { return id_; }
  KeyAlgorithm algorithm() const noexcept { return algorithm_; }
  Token& token() const noexcept { return *token_; }

  // The last error of a signing call made through evp() on this thread
  // (OpenSSL's callbacks cannot carry our Error back).
  static Error LastSignError();

 private:
  TokenKey(std::shared_ptr<Token> token, CK_OBJECT_HANDLE priv, std::string label, Bytes id)
      : token_(std::move(token)), private_handle_(priv), label_(std::move(label)), id_(std::move(id)) {}

  Status BuildEvp(CK_OBJECT_HANDLE public_handle);
  Status Refind();

  std::shared_ptr<Token> token_;
  std::mutex handle_mu_;  // guards private_handle_ (replaced if the token forgets it)
  CK_OBJECT_HANDLE private_handle_;
  const std::string label_;
  const Bytes id_;
  KeyAlgorithm algorithm_ = KeyAlgorithm::kEcP256;
  EvpPkeyPtr evp_;
};

}  // namespace station::hsm
