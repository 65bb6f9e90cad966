// Where a token PIN comes from: a file of mode 0600 (or stricter), an
// environment variable, or a systemd credential. Never argv, never a log line.
#pragma once

#include <string>

#include "hsm/error.h"

namespace station::hsm {

// A secret string that is wiped when it goes away. Never printed.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept;
  ~Secret() { Wipe(); }

  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }

 private:
  void Wipe() noexcept;
  std::string value_;
};

struct PinSource {
  enum class Kind { kFile, kEnv, kCredential };
  Kind kind = Kind::kFile;
  std::string name;  // path, variable name, or credential name

  std::string Describe() const;  // "PIN file /x/user.pin", for messages
};

constexpr size_t kMaxPinBytes = 256;

// Reads the PIN. A file (or credential) readable by group or others is refused;
// trailing newlines are dropped; an empty PIN is refused. An environment
// variable is wiped from this process's environment once read.
Result<Secret> ReadPin(const PinSource& source);

// Reads a secret file under the same rules as a PIN file (mode, size, newline).
Result<Secret> ReadSecretFile(const std::string& path, const std::string& what);

}  // namespace station::hsm
