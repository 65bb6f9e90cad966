// Signed checkpoints of the audit log: the C2SP tlog-checkpoint text
// ("<origin>\n<tree size>\n<base64 root hash>\n") in a C2SP signed note.
//
// The audit key is Ed25519 (signature type 0x01) or ECDSA P-256 (type 0x02,
// as github.com/transparency-dev/witness signs); its key name is the log's
// origin. Anyone with the public key verifies a checkpoint: no token needed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "station/audit/merkle.h"
#include "station/base/ossl.h"

namespace station::audit {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
};

// An origin is a signed-note key name: 1-256 printable characters, no spaces
// or '+'. INVALID_ARGUMENT BAD_AUDIT_ORIGIN otherwise.
Status CheckOrigin(const std::string& origin);

// The note text a checkpoint signature covers.
std::string CheckpointBody(const Checkpoint& checkpoint);

// The public half of the audit key, named by the log's origin.
class NoteKey {
 public:
  // Ed25519 or P-256; anything else is refused.
  static Result<NoteKey> FromPublicKey(const std::string& name, EVP_PKEY* key);
  // A PEM SubjectPublicKeyInfo file (what `stationctl audit init-key` writes).
  static Result<NoteKey> FromPemFile(const std::string& name, const std::string& path);

  const std::string& name() const noexcept { return name_; }
  uint32_t id() const noexcept { return id_; }
  uint8_t type() const noexcept { return type_; }
  EVP_PKEY* pkey() const noexcept { return pkey_.get(); }

  // "<name>+<8 hex key id>+<base64(type || key)>": the verifier key string of
  // golang.org/x/mod/sumdb/note, for tools outside the station.
  std::string VerifierKey() const;

  // Whether `signature` (without the key ID) is this key's over `text`.
  bool Verify(std::string_view text, const Bytes& signature) const;

  // "— <name> <base64(key id || signature)>\n".
  std::string SignatureLine(const Bytes& signature) const;

 private:
  std::string name_;
  uint32_t id_ = 0;
  uint8_t type_ = 0;
  Bytes key_bytes_;  // 32-byte Ed25519 key, or the P-256 SPKI DER
  std::shared_ptr<EVP_PKEY> pkey_;
};

// Parses a signed checkpoint, checks that `key` signed it and that its origin
// is the key's name. DATA_LOSS AUDIT_CHECKPOINT_INVALID says what is wrong.
Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteKey& key);

// The signed note: body, blank line, signature line.
std::string SignedCheckpoint(const Checkpoint& checkpoint, const NoteKey& key, const Bytes& signature);

}  // namespace station::audit
