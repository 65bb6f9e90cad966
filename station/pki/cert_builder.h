// Building blocks for X.509 certificates and requests: serials, names,
// extensions, and a one-call builder for the station's own certificates
// (CA certificates, TLS certificates). Device certificates are built by the
// issuance profile, which uses the same blocks.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/pki/x509.h"

namespace station::pki {

// RFC 5280 4.1.2.2: a positive INTEGER of at most 20 octets. We draw 16 octets
// (127 bits after clearing the sign bit) from OpenSSL's private CSPRNG, far above
// the CA/Browser Forum's 64-bit floor, so collisions are not a practical concern;
// the audit store still refuses a reused serial.
Result<Asn1IntegerPtr> RandomSerial();

// Lowercase hex of a serial without leading zeros ("0" for zero).
std::string SerialHex(const ASN1_INTEGER* serial);

// "CN=a,O=b,C=DE" (also "/CN=a/O=b") to an X509_NAME. Values are UTF-8.
Result<X509NamePtr> ParseName(const std::string& text);
// RFC 2253 text of a name, e.g. "CN=device-1,O=Acme".
std::string NameText(const X509_NAME* name);

// An ASN.1 time as ISO 8601 UTC ("2030-01-31T12:00:00Z"); empty if it cannot be read.
std::string TimeText(const ASN1_TIME* time);
// The same as seconds since the epoch; 0 if it cannot be read.
int64_t TimeUnix(const ASN1_TIME* time);

// RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING.
Bytes KeyIdentifier(X509_PUBKEY* spki);
// The key id a CA's certificates name it by (their authorityKeyIdentifier):
// its subjectKeyIdentifier, or KeyIdentifier of its key when it has none.
Bytes CaKeyId(X509* ca);

// An extension from OpenSSL's config syntax ("critical,CA:TRUE,pathlen:0").
// `cert` and `issuer` give the context for subjectKeyIdentifier=hash and
// authorityKeyIdentifier=keyid.
Result<X509ExtPtr> MakeExtension(int nid, const std::string& value, X509* cert = nullptr, X509* issuer = nullptr);

// Signs the certificate (or request) with the key, which may live in the
// token; reports the token's error when the token refused.
Status SignCert(X509* cert, EVP_PKEY* key, const EVP_MD* md);
Status SignCsr(X509_REQ* csr, EVP_PKEY* key, const EVP_MD* md);

// The digest the station signs with under a key: SHA-384 for P-384, SHA-256 otherwise.
const EVP_MD* DigestFor(EVP_PKEY* key);

struct CertSpec {
  std::string subject;             // "CN=Station Dev CA,O=Example"
  int validity_days = 365;
  bool is_ca = false;
  int path_len = -1;               // for a CA: pathLenConstraint, -1 for none
  std::vector<std::string> san;    // "DNS:localhost", "IP:127.0.0.1"
  std::string extended_key_usage;  // "serverAuth", "clientAuth", or empty
  int starts_in_days = 0;          // notBefore this many days from now (an hour back at 0, for clock skew)
};

// A certificate for `subject_key`, signed by `issuer_key` under `issuer_cert`
// (self-signed when issuer_cert is null).
Result<X509Ptr> MakeCert(const CertSpec& spec, EVP_PKEY* subject_key, EVP_PKEY* issuer_key, X509* issuer_cert);

// A PKCS#10 request for the key with the given subject (for a CA that an
// external root will sign: it asks for CA:TRUE).
Result<X509ReqPtr> MakeCaCsr(const std::string& subject, EVP_PKEY* key);

// A fresh software key (for TLS material and simulated devices; never a CA key).
Result<EvpPkeyPtr> GenerateSoftwareKey(const std::string& algorithm);

}  // namespace station::pki
