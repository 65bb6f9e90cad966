// Reading and writing the files a station keeps: PEM certificates, keys, and
// small text files, with the modes a secret needs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hsm/error.h"
#include "hsm/ossl.h"

namespace station::pki {

// Reads a whole file of at most `max_bytes`.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 1 << 20);

// A file that appears at `path` whole or not at all. It is written beside
// `path` under a name nobody can predict or place beforehand (mkstemp:
// O_CREAT|O_EXCL, so never through a symlink or into another's file), given
// exactly `mode`, synced, and renamed onto `path` by Commit(); a NewFile
// never committed is removed.
class NewFile {
 public:
  static Result<NewFile> Create(const std::string& path, unsigned mode);
  NewFile(NewFile&& other) noexcept;
  NewFile& operator=(NewFile&&) = delete;
  ~NewFile();

  Status Append(std::string_view data);
  Status Commit();

 private:
  NewFile(std::string path, std::string tmp, int fd) : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}
  Error Failed(const std::string& doing, int err) const;
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
};

// Writes a file atomically with the given mode (a NewFile).
Status WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644);

// All certificates in a PEM file, in file order (at least one).
Result<std::vector<X509Ptr>> ReadCertsPem(const std::string& path);
// The certificates in a PEM string.
Result<std::vector<X509Ptr>> ParseCertsPem(const std::string& pem, const std::string& what);

std::string CertPem(X509* cert);
std::string CsrPem(X509_REQ* csr);
std::string PrivateKeyPem(EVP_PKEY* key);  // unencrypted PKCS#8; write it with mode 0600
std::string PublicKeyPem(EVP_PKEY* key);   // SubjectPublicKeyInfo

// A DER certificate as an X509 (INVALID_ARGUMENT when it is not one, or has
// trailing bytes). The string form takes protobuf `bytes` fields as they are.
Result<X509Ptr> ParseCertDer(const Bytes& der);
Result<X509Ptr> ParseCertDer(std::string_view der);

}  // namespace station::pki
