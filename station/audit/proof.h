// Inclusion proofs: one issuance, the audit path to the root of a signed
// checkpoint, and that checkpoint. A proof is self-contained text: anyone with
// the audit public key checks it offline (`stationctl audit check-proof`).
//
//   station-audit-inclusion-proof v1
//   index <leaf index = seq - 1>
//   record <base64 of the canonical record>
//   path <base64 hash>            (zero or more, from the leaf up)
//   checkpoint
//   <the signed checkpoint note, verbatim, to the end>
#pragma once

#include <string>

#include "station/audit/checkpoint.h"
#include "station/audit/record.h"
#include "station/store/store.h"

namespace station::audit {

// The proof for the issuance with this serial (hex, any case, ':' allowed)
// against the latest checkpoint. NOT_FOUND SERIAL_NOT_FOUND, or
// FAILED_PRECONDITION NOT_YET_CHECKPOINTED when it is newer than the checkpoint.
Result<std::string> ProveInclusion(store::Store& store, const NoteKey& key, const std::string& serial);

struct CheckedProof {
  AuditRecord record;
  Checkpoint checkpoint;
};

// Verifies a proof with only the audit public key. DATA_LOSS PROOF_INVALID
// (or AUDIT_CHECKPOINT_INVALID) says what does not hold.
Result<CheckedProof> CheckInclusionProof(const std::string& proof, const NoteKey& key);

}  // namespace station::audit
