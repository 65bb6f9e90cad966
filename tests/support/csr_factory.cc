#include "tests/support/csr_factory.h"

#include <openssl/rsa.h>

#include <cstdlib>

#include "station/pki/cert_builder.h"

namespace station::testing {

TestCsr MakeCsr(const std::string& key_type, const std::string& cn) {
  TestCsr out;
  EVP_PKEY* key = nullptr;
  if (key_type == "ec-p256") key = EVP_EC_gen("P-256");
  else if (key_type == "ec-p384") key = EVP_EC_gen("P-384");
  else if (key_type == "ec-p521") key = EVP_EC_gen("P-521");
  else if (key_type.rfind("rsa-", 0) == 0) key = EVP_RSA_gen(static_cast<unsigned>(std::atoi(key_type.c_str() + 4)));
  if (key == nullptr) std::abort();
  out.key.reset(key);
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  X509_REQ_sign(req.get(), key, EVP_sha256());
  out.der = CsrDer(req.get());
  return out;
}

Bytes TamperSignature(const Bytes& der) {
  Bytes out = der;
  out[out.size() - 5] ^= 0x01;  // inside the signature BIT STRING at the end
  return out;
}

}  // namespace station::testing
