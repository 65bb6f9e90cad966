// The PKCS#11 API as the station sees it: the standard header, and a CK_RV
// turned into an Error that keeps the CKR_ name and says what we were doing.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>

#include "station/base/error.h"

namespace station::hsm {

// "CKR_PIN_INCORRECT" for CKR_PIN_INCORRECT; nullptr for an unknown value.
const char* CkrName(CK_RV rv) noexcept;
// The name, or "CKR_0x........" for a vendor or unknown value.
std::string CkrText(CK_RV rv);

// An Error for a failed call: `doing` says what we were doing ("C_Login on
// token 'station'"). Lost sessions, lost logins and absent tokens are
// UNAVAILABLE (retryable), a wrong PIN is FAILED_PRECONDITION, the rest INTERNAL.
Error CkError(CK_RV rv, const std::string& doing);

}  // namespace station::hsm
