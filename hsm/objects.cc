#include "hsm/objects.h"

namespace station::hsm {

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

}  // namespace station::hsm
