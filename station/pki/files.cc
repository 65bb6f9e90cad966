#include "station/pki/files.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace station::pki {
namespace {

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(Code::kFailedPrecondition, "FILE_UNREADABLE", "cannot read " + path + ": " + std::strerror(errno));
  std::string content;
  content.resize(max_bytes + 1);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > max_bytes)
    return MakeError(Code::kFailedPrecondition, "FILE_TOO_LARGE",
                     path + " is larger than " + std::to_string(max_bytes) + " bytes");
  return content;
}

Status WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return MakeError(Code::kFailedPrecondition, "FILE_UNWRITABLE", "cannot write " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, mode);  // umask must not widen or narrow what we asked for
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      return MakeError(Code::kFailedPrecondition, "FILE_UNWRITABLE", "cannot write " + tmp + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return MakeError(Code::kFailedPrecondition, "FILE_UNWRITABLE", "cannot write " + path + ": " + std::strerror(errno));
  }
  return {};
}

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
  ST_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
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
