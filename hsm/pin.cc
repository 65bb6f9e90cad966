#include "hsm/pin.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace station::hsm {
namespace {

Error PinError(const std::string& what, const std::string& why) {
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

std::string PinSource::Describe() const {
  switch (kind) {
    case Kind::kFile: return "PIN file " + name;
    case Kind::kEnv: return "PIN environment variable " + name;
    case Kind::kCredential: return "systemd credential " + name;
  }
  return name;
}

Result<Secret> ReadSecretFile(const std::string& path, const std::string& what, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return PinError(what, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return PinError(what, "not a regular file");
  }
  if (st.st_mode & 077) {
    ::close(fd);
    return PinError(what, "is readable or writable by group or others (mode " + ModeText(st.st_mode) +
                              "); run: chmod 600 " + path);
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return PinError(what, "is longer than " + std::to_string(max_bytes) + " bytes");
  }
  std::vector<char> buffer(max_bytes + 1);
  ssize_t n = ::read(fd, buffer.data(), buffer.size());
  int read_errno = errno;
  ::close(fd);
  if (n < 0) return PinError(what, std::strerror(read_errno));
  Secret out(buffer.data(), WithoutTrailingNewlines(buffer.data(), static_cast<size_t>(n)));
  OPENSSL_cleanse(buffer.data(), buffer.size());
  if (out.empty()) return PinError(what, "is empty");
  return out;
}

Result<Secret> ReadPin(const PinSource& source) {
  switch (source.kind) {
    case PinSource::Kind::kFile:
      return ReadSecretFile(source.name, source.Describe());
    case PinSource::Kind::kCredential: {
      // systemd LoadCredential=/SetCredential= put it under $CREDENTIALS_DIRECTORY.
      const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
      if (dir == nullptr || *dir == '\0')
        return PinError(source.Describe(), "CREDENTIALS_DIRECTORY is not set (is the server "
                                           "running under systemd with LoadCredential=?)");
      if (source.name.find('/') != std::string::npos)
        return PinError(source.Describe(), "a credential name must not contain '/'");
      return ReadSecretFile(std::string(dir) + "/" + source.name, source.Describe());
    }
    case PinSource::Kind::kEnv: {
      char* value = std::getenv(source.name.c_str());
      if (value == nullptr) return PinError(source.Describe(), "is not set");
      Secret secret(value, std::strlen(value));
      // Overwrite it in place so /proc/<pid>/environ no longer shows it.
      OPENSSL_cleanse(value, std::strlen(value));
      ::unsetenv(source.name.c_str());
      if (secret.empty()) return PinError(source.Describe(), "is empty");
      if (secret.reveal().size() > kMaxPinBytes) return PinError(source.Describe(), "is too long");
      return secret;
    }
  }
  return PinError(source.Describe(), "unknown PIN source");
}

Result<PinReader> PinReaderFor(const PinSource& source) {
  if (source.kind != PinSource::Kind::kEnv) return PinReader([source] { return ReadPin(source); });
  ST_ASSIGN_OR_RETURN(Secret pin, ReadPin(source));
  return KeptPin(std::move(pin));
}

PinReader KeptPin(Secret pin) {
  auto kept = std::make_shared<const Secret>(std::move(pin));
  return [kept]() -> Result<Secret> { return kept->Copy(); };
}

}  // namespace station::hsm
