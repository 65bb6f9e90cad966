#include "station/audit/checkpoint.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace station::audit {
namespace {

constexpr uint8_t kTypeEd25519 = 0x01;
constexpr uint8_t kTypeEcdsa = 0x02;
constexpr std::string_view kEmDash = "\xe2\x80\x94";
constexpr size_t kMaxNoteBytes = 16 * 1024;

Error Invalid(const std::string& why) {
  return MakeError(Code::kDataLoss, "AUDIT_CHECKPOINT_INVALID", why);
}

uint32_t FirstFourBytes(const Bytes& digest) {
  return (uint32_t{digest[0]} << 24) | (uint32_t{digest[1]} << 16) | (uint32_t{digest[2]} << 8) | digest[3];
}

bool ValidKeyName(const std::string& name) {
  if (name.empty() || name.size() > 256) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c == '+' || c == 0x7f) return false;
  return true;
}

bool ParseDecimal(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

}  // namespace

Status CheckOrigin(const std::string& origin) {
  if (!ValidKeyName(origin))
    return MakeError(Code::kInvalidArgument, "BAD_AUDIT_ORIGIN",
                     "audit origin '" + origin + "' must be 1-256 printable characters without spaces or '+'");
  return {};
}

std::string CheckpointBody(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" + Base64Encode(c.root.data(), c.root.size()) + "\n";
}

Result<NoteKey> NoteKey::FromPublicKey(const std::string& name, EVP_PKEY* key) {
  ST_RETURN_IF_ERROR(CheckOrigin(name));
  NoteKey out;
  out.name_ = name;
  Bytes id_input(name.begin(), name.end());
  id_input.push_back('\n');
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
    out.type_ = kTypeEd25519;
    size_t len = 32;
    out.key_bytes_.resize(len);
    if (EVP_PKEY_get_raw_public_key(key, out.key_bytes_.data(), &len) != 1 || len != 32)
      return MakeError(Code::kFailedPrecondition, "AUDIT_KEY_INVALID", "cannot read the Ed25519 public key");
    // key ID = SHA-256(name || 0x0A || 0x01 || key)[:4] (C2SP signed-note).
    id_input.push_back(kTypeEd25519);
    id_input.insert(id_input.end(), out.key_bytes_.begin(), out.key_bytes_.end());
    out.id_ = FirstFourBytes(Sha256(id_input));
  } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    char curve[64] = {0};
    size_t curve_len = 0;
    EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &curve_len);
    if (std::strcmp(curve, "prime256v1") != 0 && std::strcmp(curve, "P-256") != 0)
      return MakeError(Code::kFailedPrecondition, "AUDIT_KEY_INVALID", "the audit key must be Ed25519 or P-256");
    out.type_ = kTypeEcdsa;
    out.key_bytes_ = SpkiDer(key);
    // C2SP signed-note 0x02: the key ID is the truncated SHA-256 of the SPKI DER.
    out.id_ = FirstFourBytes(Sha256(out.key_bytes_));
  } else {
    return MakeError(Code::kFailedPrecondition, "AUDIT_KEY_INVALID", "the audit key must be Ed25519 or P-256");
  }
  EVP_PKEY_up_ref(key);
  out.pkey_.reset(key, EVP_PKEY_free);
  return out;
}

Result<NoteKey> NoteKey::FromPemFile(const std::string& name, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr)
    return MakeError(Code::kFailedPrecondition, "AUDIT_KEY_MISSING",
                     "cannot read the audit public key " + path + " (made by `stationctl audit init-key`)");
  EvpPkeyPtr key(PEM_read_PUBKEY(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!key) return MakeError(Code::kFailedPrecondition, "AUDIT_KEY_INVALID", path + " holds no PEM public key");
  return FromPublicKey(name, key.get());
}

std::string NoteKey::VerifierKey() const {
  char id_hex[9];
  std::snprintf(id_hex, sizeof id_hex, "%08x", id_);
  Bytes typed{type_};
  typed.insert(typed.end(), key_bytes_.begin(), key_bytes_.end());
  return name_ + "+" + id_hex + "+" + Base64Encode(typed);
}

bool NoteKey::Verify(std::string_view text, const Bytes& signature) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  const EVP_MD* md = type_ == kTypeEd25519 ? nullptr : EVP_sha256();
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey_.get()) != 1) return false;
  bool ok = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                             reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
  OpenSslErrors();  // a failed verification leaves errors behind; they are not ours to report
  return ok;
}

std::string NoteKey::SignatureLine(const Bytes& signature) const {
  Bytes blob{static_cast<uint8_t>(id_ >> 24), static_cast<uint8_t>(id_ >> 16), static_cast<uint8_t>(id_ >> 8),
             static_cast<uint8_t>(id_)};
  blob.insert(blob.end(), signature.begin(), signature.end());
  return std::string(kEmDash) + " " + name_ + " " + Base64Encode(blob) + "\n";
}

std::string SignedCheckpoint(const Checkpoint& checkpoint, const NoteKey& key, const Bytes& signature) {
  return CheckpointBody(checkpoint) + "\n" + key.SignatureLine(signature);
}

Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteKey& key) {
  if (note.size() > kMaxNoteBytes) return Invalid("checkpoint is larger than 16 KiB");
  size_t split = note.find("\n\n");
  if (split == std::string_view::npos) return Invalid("checkpoint has no blank line before its signatures");
  std::string_view text = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  // The key's signature line; signatures of unknown keys are ignored (signed-note).
  bool found = false;
  while (!sigs.empty()) {
    size_t end = sigs.find('\n');
    if (end == std::string_view::npos) return Invalid("signature line does not end in a newline");
    std::string_view line = sigs.substr(0, end);
    sigs.remove_prefix(end + 1);
    if (line.substr(0, kEmDash.size()) != kEmDash || line.size() < kEmDash.size() + 2 || line[kEmDash.size()] != ' ')
      return Invalid("malformed signature line");
    line.remove_prefix(kEmDash.size() + 1);
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return Invalid("malformed signature line");
    if (line.substr(0, space) != key.name()) continue;
    auto blob = Base64Decode(line.substr(space + 1));
    if (!blob || blob->size() < 5) return Invalid("signature is not base64 of a key ID and a signature");
    uint32_t id = FirstFourBytes(*blob);
    if (id != key.id()) continue;
    if (!key.Verify(text, Bytes(blob->begin() + 4, blob->end())))
      return Invalid("the signature of '" + key.name() + "' does not verify: the checkpoint was altered or signed "
                     "by another key");
    found = true;
  }
  if (!found) return Invalid("checkpoint carries no signature of the audit key " + key.VerifierKey());
  // The body: origin, size, root, optional extension lines.
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    size_t end = rest.find('\n');
    lines.push_back(rest.substr(0, end));
    rest.remove_prefix(end + 1);
  }
  Checkpoint out;
  if (lines.size() < 3) return Invalid("checkpoint body has fewer than three lines");
  out.origin = std::string(lines[0]);
  if (out.origin != key.name())
    return Invalid("checkpoint origin '" + out.origin + "' is not the audit key's name '" + key.name() + "'");
  if (!ParseDecimal(lines[1], out.size)) return Invalid("checkpoint tree size is not a decimal number");
  auto root = Base64Decode(lines[2]);
  if (!root || root->size() != 32) return Invalid("checkpoint root hash is not base64 of 32 bytes");
  std::memcpy(out.root.data(), root->data(), 32);
  return out;
}

}  // namespace station::audit
