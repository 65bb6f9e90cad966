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

namespace station::audit {

// Issuances and officer actions share one sequence, one hash chain and one
// Merkle tree, so a checkpoint vouches for both.
enum class RecordKind { kIssuance, kOfficer };

struct AuditRecord {
  RecordKind kind = RecordKind::kIssuance;
  uint64_t seq = 0;          // 1, 2, 3, ... with no gaps
  int64_t time_unix_ms = 0;  // when the record was appended
  std::string request_id;
  std::string caller;        // identity from the client certificate
  std::string device_id;
  std::string profile;
  std::string serial_hex;
  std::string certificate_id;  // lowercase hex SHA-256 of certificate_der
  std::string spki_sha256;     // lowercase hex SHA-256 of the SubjectPublicKeyInfo DER
  std::string subject;         // RFC 2253
  std::string issuer_key_id;   // lowercase hex of the CA's subjectKeyIdentifier
  std::string csr_sha256;      // lowercase hex SHA-256 of the CSR DER (retry matching)
  std::string thing_name;      // AWS IoT thing name ("" when none)
  std::string thing_type;      // AWS IoT thing type ("" when none)
  std::string thing_attributes;  // AWS IoT thing attributes, a JSON object with sorted keys
  std::string authorization;   // how the device was authorized: "", "lot:NAME", "code:HASH16", "+reissue"
  Bytes certificate_der;
  // Officer records use seq, time, request_id (the action's id), caller (the
  // officer), profile (the issuer or profile acted on), device_id,
  // issuer_key_id (the CA acted on), these two, and the hashes.
  std::string action;          // "ca.stage", "ca.activate", "approval", ...
  std::string detail;          // a JSON object with the rest of what was done
  std::string prev_hash;       // record_hash of seq-1; 64 zeros for seq 1
  std::string record_hash;
};

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
