// Ownership of OpenSSL objects (keys, digests, ASN.1 values), and OpenSSL's
// error queue as text. X.509 objects have theirs in pki/x509.h.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

#include "station/base/bytes.h"

namespace station {

template <typename T, void (*Free)(T*)>
struct OsslDeleter {
  void operator()(T* p) const noexcept { Free(p); }
};
template <typename T, void (*Free)(T*)>
using OsslPtr = std::unique_ptr<T, OsslDeleter<T, Free>>;

using BioPtr = OsslPtr<BIO, BIO_free_all>;
using BnPtr = OsslPtr<BIGNUM, BN_free>;
using EvpPkeyPtr = OsslPtr<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtxPtr = OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpMdCtxPtr = OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using Asn1IntegerPtr = OsslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1OctetStringPtr = OsslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using Asn1TimePtr = OsslPtr<ASN1_TIME, ASN1_TIME_free>;
using EcdsaSigPtr = OsslPtr<ECDSA_SIG, ECDSA_SIG_free>;

// Drains OpenSSL's thread-local error queue into one line ("" when empty).
std::string OpenSslErrors();

// Any OpenSSL object through its i2d function; empty when it cannot be encoded.
template <typename T, typename I2d>
Bytes ToDer(T* object, I2d i2d) {
  unsigned char* der = nullptr;
  int len = i2d(object, &der);
  if (len <= 0) return {};
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// DER of a public key's SubjectPublicKeyInfo ({} on failure).
Bytes SpkiDer(EVP_PKEY* key);

}  // namespace station
