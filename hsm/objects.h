// Token objects found and read through a session of the token: each call is
// one round trip to a network HSM, so callers find a key once and keep it.
#pragma once

#include <string>
#include <vector>

#include "hsm/token.h"
#include "station/base/ossl.h"

namespace station::hsm {

// Reads one attribute of any object; CKR_ATTRIBUTE_SENSITIVE for a secret part.
Result<Bytes> ReadAttribute(Token& token, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

// Finds the objects of a class with the given label and/or id (either may be
// empty); at most 1024, a bound on a hostile or odd token.
Result<std::vector<CK_OBJECT_HANDLE>> FindObjects(Token& token, CK_OBJECT_CLASS klass,
                                                  const std::string& label, const Bytes& id);

}  // namespace station::hsm
