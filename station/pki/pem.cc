#include "station/pki/pem.h"

#include <openssl/pem.h>

#include "station/base/files.h"

namespace station::pki {
namespace {

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

}  // namespace

Result<std::vector<X509Ptr>> ParseCertsPem(const std::string& pem, const std::string& what) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(cert);
  OpenSslErrors();  // the end of input leaves a "no start line" error behind
  if (certs.empty())
    return MakeError(Code::kFailedPrecondition, "BAD_CERTIFICATE_FILE", what + " holds no PEM certificate");
  return certs;
}

Result<std::vector<X509Ptr>> ReadCertsPem(const std::string& path) {
  ST_ASSIGN_OR_RETURN(std::string pem, base::ReadFile(path));
  return ParseCertsPem(pem, path);
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return BioText(bio.get());
}

std::string CsrPem(X509_REQ* csr) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), csr);
  return BioText(bio.get());
}

std::string PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

Result<EvpPkeyPtr> ParsePrivateKeyPem(const std::string& pem, const std::string& what) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return MakeError(Code::kInvalidArgument, "KEY_INVALID", what + " holds no PEM private key: " + OpenSslErrors());
  return key;
}

std::string PublicKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key);
  return BioText(bio.get());
}

Result<X509Ptr> ParseCertDer(std::string_view der) {
  const auto* start = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* p = start;
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != start + der.size())
    return MakeError(Code::kInvalidArgument, "BAD_CERTIFICATE", "not a DER certificate: " + OpenSslErrors());
  return cert;
}

Result<X509Ptr> ParseCertDer(const Bytes& der) {
  return ParseCertDer(std::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
}

}  // namespace station::pki
