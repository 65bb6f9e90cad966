// What the token says about a private key, and the rule every CA and audit key
// must meet: generated inside the token (CKA_LOCAL), never readable out of it
// (sensitive, not extractable, and never was), private to the logged-in user,
// a token object, and good for signing only (no decrypt, unwrap or derive).
// A key created elsewhere and imported may have a copy outside the token;
// one that allows decryption may be used as an oracle. Both are refused.
#pragma once

#include <string>

#include "hsm/key.h"

namespace station::hsm {

struct KeyAttributes {
  bool token = false;              // CKA_TOKEN
  bool is_private = false;         // CKA_PRIVATE
  bool sensitive = false;          // CKA_SENSITIVE
  bool extractable = true;         // CKA_EXTRACTABLE
  bool always_sensitive = false;   // CKA_ALWAYS_SENSITIVE
  bool never_extractable = false;  // CKA_NEVER_EXTRACTABLE
  bool local = false;              // CKA_LOCAL: generated in this token
  bool sign = false;               // CKA_SIGN
  bool decrypt = false;            // CKA_DECRYPT
  bool unwrap = false;             // CKA_UNWRAP
  bool derive = false;             // CKA_DERIVE
  bool sign_recover = false;       // CKA_SIGN_RECOVER
};

// One C_GetAttributeValue for all of them. An attribute the token does not
// know for this key type (CKR_ATTRIBUTE_TYPE_INVALID) reads as its safe
// default: usages false, protections false.
Result<KeyAttributes> ReadKeyAttributes(TokenKey& key);

// "CKA_LOCAL=true CKA_EXTRACTABLE=false ..." for the officer's screen and the audit record.
std::string DescribeKeyAttributes(const KeyAttributes& attrs);

// FAILED_PRECONDITION when the key breaks the rule above, naming the first
// attribute that does: KEY_EXTRACTABLE, KEY_NOT_LOCAL, KEY_NOT_SENSITIVE,
// KEY_NOT_PRIVATE, KEY_NOT_ON_TOKEN, KEY_CANNOT_SIGN, KEY_USAGE_TOO_BROAD.
// `role` says what it was meant to be ("CA key", "audit key").
Status CheckSigningOnlyKey(const KeyAttributes& attrs, const std::string& role, const std::string& key_name);

// Turns off decrypt, unwrap, derive and sign-recover on the private key
// (C_SetAttributeValue; a token may refuse if the key is not CKA_MODIFIABLE).
// For keys made before the station asked for them off: SoftHSM's default for
// CKA_UNWRAP is true. Extractable or imported keys cannot be repaired.
Status RestrictToSigning(TokenKey& key);

// ReadKeyAttributes, then CheckSigningOnlyKey.
Status RequireSigningOnlyKey(TokenKey& key, const std::string& role);

}  // namespace station::hsm
