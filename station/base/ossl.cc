#include "station/base/ossl.h"

#include <openssl/err.h>
#include <openssl/x509.h>

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

Bytes SpkiDer(EVP_PKEY* key) { return ToDer(key, i2d_PUBKEY); }

}  // namespace station
