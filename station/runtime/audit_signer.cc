#include "station/runtime/audit_signer.h"

#include "hsm/key.h"
#include "hsm/key_attributes.h"

namespace station::runtime {
namespace {

Error NotConfigured() {
  return MakeError(Code::kFailedPrecondition, "AUDIT_KEY_NOT_CONFIGURED",
                   "[audit] key_uri, public_key and origin are not set: run `stationctl audit init-key --config FILE` "
                   "and add the lines it prints");
}

// ECDSA through the key's OpenSSL face (the token signs, OpenSSL DER-encodes);
// Ed25519 as one CKM_EDDSA over the whole text.
Result<Bytes> SignText(hsm::TokenKey& key, std::string_view text) {
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  if (key.algorithm() == hsm::KeyAlgorithm::kEd25519) return key.SignRaw(CKM_EDDSA, data, text.size());
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.evp()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, text.size()) != 1)
    return hsm::TokenKey::LastSignError();
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data, text.size()) != 1) return hsm::TokenKey::LastSignError();
  sig.resize(len);
  return sig;
}

}  // namespace

Result<audit::NoteKey> PublishedAuditKey(const config::AuditConfig& audit) {
  if (audit.public_key.empty() || audit.origin.empty()) return NotConfigured();
  return audit::NoteKey::FromPemFile(audit.origin, audit.public_key);
}

Result<audit::CheckpointSigner> OpenAuditSigner(std::shared_ptr<hsm::Token> token, const config::AuditConfig& audit) {
  if (audit.key_uri.empty()) return NotConfigured();
  ST_ASSIGN_OR_RETURN(auto uri, hsm::ParsePkcs11Uri(audit.key_uri));
  ST_ASSIGN_OR_RETURN(std::shared_ptr<hsm::TokenKey> key, hsm::TokenKey::Find(std::move(token), uri));
  if (key->algorithm() != hsm::KeyAlgorithm::kEd25519 && key->algorithm() != hsm::KeyAlgorithm::kEcP256)
    return MakeError(Code::kFailedPrecondition, "AUDIT_KEY_INVALID",
                     "audit key " + audit.key_uri + " is " + hsm::KeyAlgorithmName(key->algorithm()) +
                         "; checkpoints are signed with ed25519 or ec-p256");
  ST_RETURN_IF_ERROR(hsm::RequireSigningOnlyKey(*key, "audit key"));
  ST_ASSIGN_OR_RETURN(audit::NoteKey note_key, audit::NoteKey::FromPublicKey(audit.origin, key->evp()));
  ST_ASSIGN_OR_RETURN(audit::NoteKey published, PublishedAuditKey(audit));
  if (published.VerifierKey() != note_key.VerifierKey())
    return MakeError(Code::kFailedPrecondition, "AUDIT_KEY_MISMATCH",
                     audit.public_key + " is not the public key of " + audit.key_uri +
                         ": verifiers would reject every checkpoint");
  audit::CheckpointSigner signer;
  signer.key = std::move(note_key);
  signer.sign = [key](std::string_view text) { return SignText(*key, text); };
  return signer;
}

}  // namespace station::runtime
