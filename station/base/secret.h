// Secrets in memory and on disk: a string wiped when it goes away, and the
// rules for reading a file that holds one (a PIN, a TLS private key).
#pragma once

#include <cstddef>
#include <string>

#include "station/base/error.h"

namespace station {

// A secret string that is wiped when it goes away. Never printed.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value);
  Secret(const char* data, size_t len) : value_(data, len) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept;
  ~Secret() { Wipe(); }

  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  Secret Copy() const { return Secret(value_.data(), value_.size()); }

 private:
  void Wipe() noexcept;  // the whole buffer, not just the characters in use
  std::string value_;
};

// Reads a secret file: a regular file (no symlink) of mode 0600 or stricter,
// at most max_bytes, not empty; trailing newlines are dropped. Failures are
// FAILED_PRECONDITION PIN_UNAVAILABLE, the reason operators know for PIN and
// TLS key files alike; `what` names the file in the message.
Result<Secret> ReadSecretFile(const std::string& path, const std::string& what, size_t max_bytes);

// Private key files (TLS): PEM of an RSA-4096 key is ~3.3 KB.
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

}  // namespace station
