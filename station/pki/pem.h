// PEM certificates, requests and keys, read and written; DER certificates parsed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "station/base/error.h"
#include "station/pki/x509.h"

namespace station::pki {

// All certificates in a PEM file, in file order (at least one).
Result<std::vector<X509Ptr>> ReadCertsPem(const std::string& path);
// The certificates in a PEM string.
Result<std::vector<X509Ptr>> ParseCertsPem(const std::string& pem, const std::string& what);

std::string CertPem(X509* cert);
std::string CsrPem(X509_REQ* csr);
std::string PrivateKeyPem(EVP_PKEY* key);  // unencrypted PKCS#8; write it with mode 0600
std::string PublicKeyPem(EVP_PKEY* key);   // SubjectPublicKeyInfo
// An unencrypted PEM private key (a software TLS key; never a CA key).
Result<EvpPkeyPtr> ParsePrivateKeyPem(const std::string& pem, const std::string& what);

// A DER certificate as an X509 (INVALID_ARGUMENT when it is not one, or has
// trailing bytes). The string form takes protobuf `bytes` fields as they are.
Result<X509Ptr> ParseCertDer(const Bytes& der);
Result<X509Ptr> ParseCertDer(std::string_view der);

}  // namespace station::pki
