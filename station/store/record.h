// One record of the audit log (an issuance, or an officer's action), and the
// table of its fields: declared once here, and read by everything that lays a
// record out (the store's schema, insert and select; the canonical form that
// is hashed, audit/record.h; JSON, CSV and the other exports).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "station/base/bytes.h"

namespace station::store {

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

// How a field is held, and so how it is stored, encoded and printed.
enum class FieldType {
  kSeq,          // AuditRecord::seq: INTEGER PRIMARY KEY
  kTime,         // AuditRecord::time_unix_ms: INTEGER
  kText,         // a string
  kJsonObject,   // a string holding a JSON object: unquoted in JSON, "{}" when empty
  kCertificate,  // AuditRecord::certificate_der: a BLOB; PEM in JSON and CSV
};

struct RecordField {
  const char* column;     // its column in the kind's table
  const char* name;       // its name in JSON and CSV
  FieldType type;
  std::string AuditRecord::*text = nullptr;  // kText and kJsonObject fields
  bool hashed = true;     // part of the canonical form (all but record_hash)
  bool unique = false;    // a UNIQUE column
};

// A kind's fields in their one order: the columns of its table, the fields of
// its canonical form, and the members of its JSON and CSV.
std::span<const RecordField> RecordFields(RecordKind kind);

// Each field's value as text (numbers in decimal, the certificate as DER
// bytes); SetFieldText stores it back (false: a number that is not one).
std::string FieldText(const AuditRecord& record, const RecordField& field);
bool SetFieldText(AuditRecord& record, const RecordField& field, std::string value);

}  // namespace station::store
