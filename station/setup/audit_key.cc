#include "station/setup/audit_key.h"

#include <openssl/rand.h>

#include <filesystem>

#include "station/base/files.h"
#include "station/pki/pem.h"

namespace station::setup {

Result<AuditKeyResult> InitAuditKey(std::shared_ptr<hsm::Token> token, const AuditKeyRequest& request) {
  if (request.algorithm != hsm::KeyAlgorithm::kEd25519 && request.algorithm != hsm::KeyAlgorithm::kEcP256)
    return MakeError(Code::kInvalidArgument, "UNSUPPORTED_KEY_ALGORITHM", "the audit key is ed25519 or ec-p256");
  if (request.public_key_path.empty())
    return MakeError(Code::kInvalidArgument, "USAGE", "the audit public key needs a file to go to");
  std::error_code ec;
  if (std::filesystem::exists(request.public_key_path, ec))
    return MakeError(Code::kAlreadyExists, "FILE_EXISTS",
                     request.public_key_path + " exists; an audit public key is never overwritten");
  ST_RETURN_IF_ERROR(audit::CheckOrigin(request.origin));  // before a key is made for it
  hsm::KeygenRequest keygen;
  keygen.algorithm = request.algorithm;
  keygen.label = request.label;
  ST_ASSIGN_OR_RETURN(auto key, hsm::GenerateKeyPair(token, keygen));
  ST_ASSIGN_OR_RETURN(audit::NoteKey note_key, audit::NoteKey::FromPublicKey(request.origin, key->evp()));
  ST_RETURN_IF_ERROR(base::WriteFile(request.public_key_path, pki::PublicKeyPem(key->evp()), 0644));
  return AuditKeyResult{hsm::PrivateKeyUri(token->label(), key->label()).ToString(), std::move(note_key)};
}

std::string DefaultAuditOrigin() {
  Bytes raw(8);
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  return "signing-station.invalid/" + Hex(raw);
}

}  // namespace station::setup
