// Ownership of OpenSSL's X.509 objects, and their DER and PEM.
#pragma once

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "station/base/ossl.h"

namespace station {

using X509Ptr = OsslPtr<X509, X509_free>;
using X509ReqPtr = OsslPtr<X509_REQ, X509_REQ_free>;
using X509NamePtr = OsslPtr<X509_NAME, X509_NAME_free>;
using X509ExtPtr = OsslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using X509CrlPtr = OsslPtr<X509_CRL, X509_CRL_free>;
using X509StorePtr = OsslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = OsslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;

// DER of a certificate, a request ({} on failure).
inline Bytes CertDer(X509* cert) { return ToDer(cert, i2d_X509); }
inline Bytes CsrDer(X509_REQ* csr) { return ToDer(csr, i2d_X509_REQ); }

// The certificate as PEM (64-character lines).
inline std::string CertificatePem(const Bytes& der) { return PemEncode("CERTIFICATE", der); }

}  // namespace station
