// Where a token PIN comes from: a file of mode 0600 (or stricter), an
// environment variable, or a systemd credential. Never argv, never a log line,
// and in memory only while it is used: a file or credential is read again for
// each login, and every copy is wiped when it goes away.
#pragma once

#include <functional>
#include <string>

#include "station/base/error.h"
#include "station/base/secret.h"

namespace station::hsm {

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

// The file of systemd credential `name` (LoadCredential=, SetCredential=):
// $CREDENTIALS_DIRECTORY/name. FAILED_PRECONDITION PIN_UNAVAILABLE when the
// variable is unset or the name has a '/'; `what` names the secret.
Result<std::string> CredentialPath(const std::string& name, const std::string& what);

// The PIN each time a token needs a login (at start, and after an HSM restart).
using PinReader = std::function<Result<Secret>()>;

// A reader that reads a file or credential again every time, so no copy of
// the PIN outlives a login. An environment variable can be read only once (it
// is removed): that reader reads it now and keeps it for the logins to come.
Result<PinReader> PinReaderFor(const PinSource& source);

// A reader that keeps `pin` and hands out a copy for each login.
PinReader KeptPin(Secret pin);

}  // namespace station::hsm
