// The audit key as the running station uses it: found in the token, checked
// (not extractable, the published public key), and wrapped as the writer's
// checkpoint signer.
#pragma once

#include <memory>

#include "hsm/token.h"
#include "station/audit/writer.h"
#include "station/config/config.h"

namespace station::runtime {

Result<audit::CheckpointSigner> OpenAuditSigner(std::shared_ptr<hsm::Token> token, const config::AuditConfig& audit);

// The published audit public key ([audit] public_key, named by [audit] origin),
// what verifiers use: no token needed.
Result<audit::NoteKey> PublishedAuditKey(const config::AuditConfig& audit);

}  // namespace station::runtime
