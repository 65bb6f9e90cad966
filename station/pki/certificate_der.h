// A certificate put together from DER parts and a signature made in the
// token: what the issuance path uses instead of X509_sign and i2d_X509, whose
// OpenSSL 3.0 implementations re-encode the public key through the encoder
// framework for every certificate.
#pragma once

#include "station/base/error.h"
#include "station/pki/der.h"

namespace station::pki {

// The AlgorithmIdentifier of the signatures a CA key makes with `md`:
// ecdsa-with-SHA256/384 (no parameters) or sha256/384WithRSAEncryption (NULL
// parameters), RFC 5758 3.2 and RFC 4055 5.
Result<Bytes> SignatureAlgorithmDer(bool rsa, const EVP_MD* md);

// What C_Sign signs for `tbs`: its digest (CKM_ECDSA), or the DigestInfo of
// it (CKM_RSA_PKCS, RFC 8017 9.2).
Result<Bytes> SignInput(bool rsa, const EVP_MD* md, der::View tbs);

// PKCS#11's r || s (CKM_ECDSA) as the Ecdsa-Sig-Value X.509 carries (RFC 3279 2.2.3).
Result<Bytes> EcdsaSignatureDer(der::View raw);

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
Bytes CertificateDer(der::View tbs, der::View algorithm, der::View signature);

// A non-negative INTEGER from its big-endian magnitude (minimal, with a 00
// octet where the high bit is set).
Bytes UnsignedInteger(der::View magnitude);

}  // namespace station::pki
