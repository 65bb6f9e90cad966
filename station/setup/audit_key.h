// The audit key: generated in the token by `stationctl audit init-key` (and
// by dev-setup), used by the server to sign checkpoints, and published as a
// PEM public key that auditors and the cloud side verify checkpoints with.
#pragma once

#include <memory>
#include <string>

#include "hsm/keygen.h"
#include "station/audit/checkpoint.h"

namespace station::setup {

struct AuditKeyRequest {
  // P-256 by default: libp11 0.4 (Debian 12) fails to list a token's keys
  // once it holds an Ed25519 key, which would break the pkcs11 engine for
  // every other tool on that token. Ed25519 where no such tool is used.
  hsm::KeyAlgorithm algorithm = hsm::KeyAlgorithm::kEcP256;  // or kEd25519
  std::string label = "station-audit";
  std::string origin;           // the log's name, e.g. "acme.example/plant-3/station-1"
  std::string public_key_path;  // where the PEM public key is written (never overwritten)
};

struct AuditKeyResult {
  std::string key_uri;  // for [audit] key_uri
  audit::NoteKey note_key;
};

Result<AuditKeyResult> InitAuditKey(std::shared_ptr<hsm::Token> token, const AuditKeyRequest& request);

// A default origin for a new log: "signing-station.invalid/<16 hex>" (RFC 6761
// reserves .invalid, so it never names a real host).
std::string DefaultAuditOrigin();

}  // namespace station::setup
