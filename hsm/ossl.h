// Ownership of OpenSSL objects, and OpenSSL's error queue as text.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
using X509Ptr = OsslPtr<X509, X509_free>;
using X509ReqPtr = OsslPtr<X509_REQ, X509_REQ_free>;
using X509NamePtr = OsslPtr<X509_NAME, X509_NAME_free>;
using X509ExtPtr = OsslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using X509CrlPtr = OsslPtr<X509_CRL, X509_CRL_free>;
using X509StorePtr = OsslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = OsslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using Asn1IntegerPtr = OsslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1OctetStringPtr = OsslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using Asn1TimePtr = OsslPtr<ASN1_TIME, ASN1_TIME_free>;
using EcdsaSigPtr = OsslPtr<ECDSA_SIG, ECDSA_SIG_free>;

using Bytes = std::vector<uint8_t>;

// Drains OpenSSL's thread-local error queue into one line ("" when empty).
std::string OpenSslErrors();

// Lowercase hex of the bytes.
std::string Hex(const uint8_t* data, size_t len);
inline std::string Hex(const Bytes& b) { return Hex(b.data(), b.size()); }

// SHA-256 of the bytes.
Bytes Sha256(const uint8_t* data, size_t len);
inline Bytes Sha256(const Bytes& b) { return Sha256(b.data(), b.size()); }
inline Bytes Sha256(std::string_view s) {
  return Sha256(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Standard base64 (RFC 4648 4) with padding, no line breaks.
std::string Base64Encode(const uint8_t* data, size_t len);
inline std::string Base64Encode(const Bytes& b) { return Base64Encode(b.data(), b.size()); }
// Strict decoding: padding required, no whitespace; nullopt on anything else.
std::optional<Bytes> Base64Decode(std::string_view text);

// DER of a certificate, a public key's SubjectPublicKeyInfo, a request ({} on failure).
Bytes CertDer(X509* cert);
Bytes SpkiDer(EVP_PKEY* key);

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
Bytes CsrDer(X509_REQ* csr);

}  // namespace station
