#include "hsm/key_attributes.h"

#include <vector>

namespace station::hsm {

Result<KeyAttributes> ReadKeyAttributes(TokenKey& key) {
  KeyAttributes out;
  struct Slot {
    CK_ATTRIBUTE_TYPE type;
    bool* field;
    CK_BBOOL value;
  };
  std::vector<Slot> slots{
      {CKA_TOKEN, &out.token, 0},
      {CKA_PRIVATE, &out.is_private, 0},
      {CKA_SENSITIVE, &out.sensitive, 0},
      {CKA_EXTRACTABLE, &out.extractable, 0},
      {CKA_ALWAYS_SENSITIVE, &out.always_sensitive, 0},
      {CKA_NEVER_EXTRACTABLE, &out.never_extractable, 0},
      {CKA_LOCAL, &out.local, 0},
      {CKA_SIGN, &out.sign, 0},
      {CKA_DECRYPT, &out.decrypt, 0},
      {CKA_UNWRAP, &out.unwrap, 0},
      {CKA_DERIVE, &out.derive, 0},
      {CKA_SIGN_RECOVER, &out.sign_recover, 0},
  };
  std::vector<CK_ATTRIBUTE> tmpl;
  for (auto& slot : slots) tmpl.push_back({slot.type, &slot.value, sizeof slot.value});
  Token& token = key.token();
  CK_OBJECT_HANDLE handle = key.private_handle();
  ST_RETURN_IF_ERROR(token.Run("C_GetAttributeValue (key attributes)", [&](CK_SESSION_HANDLE session) {
    for (auto& attr : tmpl) attr.ulValueLen = sizeof(CK_BBOOL);
    CK_RV rv = token.fn()->C_GetAttributeValue(session, handle, tmpl.data(), tmpl.size());
    // TYPE_INVALID / SENSITIVE: the others are filled, the unknown ones marked.
    return rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ? CKR_OK : rv;
  }));
  // An unknown attribute keeps the struct's default: usages false, but
  // extractable true, so a token that cannot say is not trusted.
  for (size_t i = 0; i < slots.size(); ++i)
    if (tmpl[i].ulValueLen == sizeof(CK_BBOOL)) *slots[i].field = slots[i].value != CK_FALSE;
  return out;
}

std::string DescribeKeyAttributes(const KeyAttributes& a) {
  std::string out;
  auto add = [&](const char* name, bool value) {
    if (!out.empty()) out += ' ';
    out += name;
    out += value ? "=true" : "=false";
  };
  add("CKA_TOKEN", a.token);
  add("CKA_PRIVATE", a.is_private);
  add("CKA_SENSITIVE", a.sensitive);
  add("CKA_ALWAYS_SENSITIVE", a.always_sensitive);
  add("CKA_EXTRACTABLE", a.extractable);
  add("CKA_NEVER_EXTRACTABLE", a.never_extractable);
  add("CKA_LOCAL", a.local);
  add("CKA_SIGN", a.sign);
  add("CKA_SIGN_RECOVER", a.sign_recover);
  add("CKA_DECRYPT", a.decrypt);
  add("CKA_UNWRAP", a.unwrap);
  add("CKA_DERIVE", a.derive);
  return out;
}

Status CheckSigningOnlyKey(const KeyAttributes& a, const std::string& role, const std::string& key_name) {
  auto refuse = [&](const char* reason, const std::string& why) {
    return MakeError(Code::kFailedPrecondition, reason,
                     role + " '" + key_name + "' " + why + "; generate a new one inside the token with " +
                         "`stationctl ca keygen` (a CA key) or `stationctl audit init-key` (the audit key)");
  };
  if (a.extractable) return refuse("KEY_EXTRACTABLE", "can be extracted from the token (CKA_EXTRACTABLE=true)");
  if (!a.local)
    return refuse("KEY_NOT_LOCAL", "was not generated in the token (CKA_LOCAL=false): a copy may exist outside it");
  if (!a.never_extractable)
    return refuse("KEY_EXTRACTABLE", "was extractable once (CKA_NEVER_EXTRACTABLE=false)");
  if (!a.sensitive || !a.always_sensitive)
    return refuse("KEY_NOT_SENSITIVE", "is or was readable in clear (CKA_SENSITIVE / CKA_ALWAYS_SENSITIVE false)");
  if (!a.is_private) return refuse("KEY_NOT_PRIVATE", "is usable without logging in (CKA_PRIVATE=false)");
  if (!a.token) return refuse("KEY_NOT_ON_TOKEN", "is a session object (CKA_TOKEN=false)");
  if (!a.sign) return refuse("KEY_CANNOT_SIGN", "may not sign (CKA_SIGN=false)");
  if (a.decrypt || a.unwrap || a.derive)
    return MakeError(Code::kFailedPrecondition, "KEY_USAGE_TOO_BROAD",
                     role + " '" + key_name + "' may also " +
                         (a.decrypt ? "decrypt" : a.unwrap ? "unwrap keys" : "derive keys") +
                         ": a signing key must do nothing else; turn that off with `stationctl ca restrict --label " +
                         key_name + "`");
  return {};
}

Status RestrictToSigning(TokenKey& key) {
  CK_BBOOL no = CK_FALSE;
  Token& token = key.token();
  CK_OBJECT_HANDLE handle = key.private_handle();
  for (CK_ATTRIBUTE_TYPE type : {CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE, CKA_SIGN_RECOVER}) {
    ST_RETURN_IF_ERROR(token.Run("C_SetAttributeValue", [&](CK_SESSION_HANDLE session) {
      CK_ATTRIBUTE attr{type, &no, sizeof no};
      CK_RV rv = token.fn()->C_SetAttributeValue(session, handle, &attr, 1);
      return rv == CKR_ATTRIBUTE_TYPE_INVALID ? CKR_OK : rv;  // the key type has no such usage
    }));
  }
  return {};
}

Status RequireSigningOnlyKey(TokenKey& key, const std::string& role) {
  ST_ASSIGN_OR_RETURN(KeyAttributes attrs, ReadKeyAttributes(key));
  return CheckSigningOnlyKey(attrs, role, key.label());
}

}  // namespace station::hsm
