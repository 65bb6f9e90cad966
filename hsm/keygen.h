// Key pairs generated inside the token. The private key is made with
// CKA_SENSITIVE=true and CKA_EXTRACTABLE=false, so no code path, ours or
// anyone's, can read it out; both halves get the same CKA_ID so that libp11,
// OpenSSL engines and this station pair them.
#pragma once

#include <memory>
#include <string>

#include "hsm/key.h"

namespace station::hsm {

struct KeygenRequest {
  KeyAlgorithm algorithm = KeyAlgorithm::kEcP256;
  std::string label;  // CKA_LABEL of both halves; must not be in use on the token
  Bytes id;           // CKA_ID; 16 random bytes when empty
};

Result<std::shared_ptr<TokenKey>> GenerateKeyPair(std::shared_ptr<Token> token, const KeygenRequest& request);

}  // namespace station::hsm
