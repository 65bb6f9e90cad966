#include "hsm/key.h"

#include "hsm/evp_bridge.h"
#include "hsm/objects.h"

namespace station::hsm {

Error TokenKey::LastSignError() { return TakeLastBridgeError(); }

Result<std::shared_ptr<TokenKey>> TokenKey::Find(std::shared_ptr<Token> token, const Pkcs11Uri& key_uri) {
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
  ST_ASSIGN_OR_RETURN(BridgedKey bridged, BridgeTokenKey(*token_, public_handle, this));
  evp_ = std::move(bridged.evp);
  algorithm_ = bridged.algorithm;
  return {};
}

const EVP_MD* TokenKey::digest() const noexcept {
  return algorithm_ == KeyAlgorithm::kEcP384 ? EVP_sha384() : EVP_sha256();
}

Status TokenKey::Refind() {
  ST_ASSIGN_OR_RETURN(auto privs, FindObjects(*token_, CKO_PRIVATE_KEY, "", id_));
  if (privs.size() != 1)
    return MakeError(Code::kUnavailable, "KEY_GONE", "key '" + label_ + "' is no longer on the token");
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
