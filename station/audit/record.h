// One record of the audit log (an issuance, or an officer's action), and the
// hash chain that links the records.
//
// Every record has one canonical encoding: a version tag (one per kind), then
// each field of its kind (prev_hash included) as an 8-byte big-endian length
// and its bytes.
// record_hash = SHA-256(canonical), so changing, removing or reordering any
// record breaks the chain at that record; the Merkle tree's leaf for the
// record is RFC 6962's LeafHash(canonical) (merkle.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "station/audit/merkle.h"
#include "station/base/bytes.h"
#include "station/base/error.h"
#include "station/store/record.h"

namespace station::audit {

// The record and its fields are the store's (store/record.h): declared once.
using store::AuditRecord;
using store::RecordKind;

// 64 '0' characters: the prev_hash of the first record.
extern const std::string kGenesisHash;

// The canonical encoding, and back (record_hash recomputed). Inclusion
// proofs carry the canonical record so a verifier needs nothing else.
std::string CanonicalRecord(const AuditRecord& record);
Result<AuditRecord> ParseCanonicalRecord(std::string_view data);

// The hash of a record as it should be (ignores record.record_hash).
std::string ComputeRecordHash(const AuditRecord& record);

// The record's leaf in the Merkle tree.
Hash RecordLeafHash(const AuditRecord& record);

// One line of JSON (no trailing newline) with every field; the certificate as
// base64 PEM body under "certificate_pem".
std::string RecordJson(const AuditRecord& record);

}  // namespace station::audit
