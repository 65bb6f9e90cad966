// Checks of a device's public key beyond "it parses": the known ways a key
// can be weak although it looks well-formed. Each refusal is INVALID_ARGUMENT
// with a reason naming the weakness:
//
//   RSA_EXPONENT_WEAK      e even or below 65537
//   RSA_EXPONENT_TOO_LARGE e of more than 32 bits (each bit costs every verify)
//   RSA_SMALL_FACTOR       n divisible by a prime below 2^16 (broken RNG, bit flips)
//   RSA_FERMAT_FACTORABLE  p and q so close that Fermat's method factors n
//                          (CVE-2022-26320 and kin)
//   RSA_ROCA_VULNERABLE    n has the structure of Infineon's RSALib keys
//                          (ROCA, CVE-2017-15361)
//   EC_POINT_AT_INFINITY   the public point is the point at infinity
//   EC_POINT_NOT_ON_CURVE  the public point does not lie on the named curve
//
// All of them together cost tens of microseconds for a 2048-bit key.
#pragma once

#include <openssl/bn.h>
#include <openssl/x509.h>

#include "station/base/error.h"

namespace station::policy {

Status CheckRsaPublicKey(const BIGNUM* n, const BIGNUM* e);

// Looks at the raw EC point of a SubjectPublicKeyInfo on curve `curve_nid`,
// before anything decodes it (a decoder may refuse such a point without
// saying why, or accept infinity). Curves other than P-256 and P-384 pass
// untouched (they are refused as unsupported elsewhere).
Status CheckEcPoint(int curve_nid, const uint8_t* point, size_t point_len);

}  // namespace station::policy
