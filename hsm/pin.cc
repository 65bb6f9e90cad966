#include "hsm/pin.h"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace station::hsm {
namespace {

Error PinError(const std::string& what, const std::string& why) {
  return MakeError(Code::kFailedPrecondition, "PIN_UNAVAILABLE", what + ": " + why);
}

}  // namespace

std::string PinSource::Describe() const {
  switch (kind) {
    case Kind::kFile: return "PIN file " + name;
    case Kind::kEnv: return "PIN environment variable " + name;
    case Kind::kCredential: return "systemd credential " + name;
  }
  return name;
}

Result<std::string> CredentialPath(const std::string& name, const std::string& what) {
  // systemd LoadCredential=/SetCredential= put it under $CREDENTIALS_DIRECTORY.
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0')
    return PinError(what, "CREDENTIALS_DIRECTORY is not set (is the server running under systemd with "
                          "LoadCredential=?)");
  if (name.find('/') != std::string::npos) return PinError(what, "a credential name must not contain '/'");
  return std::string(dir) + "/" + name;
}

Result<Secret> ReadPin(const PinSource& source) {
  switch (source.kind) {
    case PinSource::Kind::kFile:
      return ReadSecretFile(source.name, source.Describe(), kMaxPinBytes);
    case PinSource::Kind::kCredential: {
      ST_ASSIGN_OR_RETURN(std::string path, CredentialPath(source.name, source.Describe()));
      return ReadSecretFile(path, source.Describe(), kMaxPinBytes);
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
