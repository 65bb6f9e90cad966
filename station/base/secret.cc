#include "station/base/secret.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace station {
namespace {

Error SecretError(const std::string& what, const std::string& why) {
  return MakeError(Code::kFailedPrecondition, "PIN_UNAVAILABLE", what + ": " + why);
}

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The length of `data` without its trailing newlines.
size_t WithoutTrailingNewlines(const char* data, size_t len) {
  while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) --len;
  return len;
}

}  // namespace

Secret::Secret(std::string value) : value_(std::move(value)) {
  OPENSSL_cleanse(value.data(), value.capacity());  // what a short string's move left behind
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Wipe();
    value_ = std::move(other.value_);
    other.Wipe();
  }
  return *this;
}

void Secret::Wipe() noexcept {
  OPENSSL_cleanse(value_.data(), value_.capacity());
  value_.clear();
}

Result<Secret> ReadSecretFile(const std::string& path, const std::string& what, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return SecretError(what, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return SecretError(what, "not a regular file");
  }
  if (st.st_mode & 077) {
    ::close(fd);
    return SecretError(what, "is readable or writable by group or others (mode " + ModeText(st.st_mode) +
                              "); run: chmod 600 " + path);
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return SecretError(what, "is longer than " + std::to_string(max_bytes) + " bytes");
  }
  std::vector<char> buffer(max_bytes + 1);
  ssize_t n = ::read(fd, buffer.data(), buffer.size());
  int read_errno = errno;
  ::close(fd);
  if (n < 0) return SecretError(what, std::strerror(read_errno));
  Secret out(buffer.data(), WithoutTrailingNewlines(buffer.data(), static_cast<size_t>(n)));
  OPENSSL_cleanse(buffer.data(), buffer.size());
  if (out.empty()) return SecretError(what, "is empty");
  return out;
}

}  // namespace station
