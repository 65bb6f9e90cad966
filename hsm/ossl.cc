#include "hsm/ossl.h"

#include <openssl/err.h>
#include <openssl/sha.h>

namespace station {

std::string OpenSslErrors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::string Hex(const uint8_t* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

Bytes Sha256(const uint8_t* data, size_t len) {
  Bytes out(SHA256_DIGEST_LENGTH);
  SHA256(data, len, out.data());
  return out;
}

namespace {

template <typename T, typename I2d>
Bytes ToDer(T* object, I2d i2d) {
  unsigned char* der = nullptr;
  int len = i2d(object, &der);
  if (len <= 0) return {};
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

Bytes CertDer(X509* cert) { return ToDer(cert, i2d_X509); }
Bytes SpkiDer(EVP_PKEY* key) { return ToDer(key, i2d_PUBKEY); }
Bytes CsrDer(X509_REQ* csr) { return ToDer(csr, i2d_X509_REQ); }

}  // namespace station
