// `stationctl audit export`: the issuances of the audit log in the forms the
// cloud side and people consume. Every export covers the records after
// `since_seq` up to a signed checkpoint (the latest by default), is checked
// against that checkpoint's root before anything is written, and carries the
// signed checkpoint beside it, so a receiver knows it holds every record up to
// it. The same range gives byte-identical output.
#pragma once

#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "station/audit/checkpoint.h"
#include "station/store/store.h"

namespace station::exports {

enum class Format {
  kJsonl,             // one JSON object per issuance, every field of the record
  kCsv,               // the same fields as CSV (RFC 4180) with a header row
  kAwsJitrAllowlist,  // DynamoDB JSON lines ({"Item": {...}}), keyed by serial
  kAwsBulk,           // a directory: AWS bulk registration's NDJSON and template (aws_bulk.h)
  kAwsProvisioningAllowlist,  // DynamoDB JSON lines keyed by device id: the pre-provisioning hook's
};

// "jsonl", "csv", "aws-jitr-allowlist", "aws-bulk", "aws-provisioning-allowlist".
Result<Format> ParseFormat(const std::string& name);

struct ExportRequest {
  Format format = Format::kJsonl;
  uint64_t since_seq = 0;        // records after this one
  uint64_t checkpoint_size = 0;  // up to this checkpoint; 0: the latest
  // A file (and FILE.checkpoint beside it), a new directory for aws-bulk, or
  // "" for `out_stream` (the checkpoint then goes to `note_stream`).
  std::string out;
  // Only the issuances of these profiles; empty: of every profile. The
  // allow-lists need them named: the profiles marked for JITR, or those the
  // provisioning hook vouches for (claim profiles by default).
  std::set<std::string> profiles;
  // aws-provisioning-allowlist: the claim profiles among them, whose items
  // bind the device to that very claim certificate.
  std::set<std::string> claim_profiles;
  // aws-bulk: the IoT policy its template attaches, and PEM files of CA
  // certificates that may have issued (beside the CA sets the store holds).
  std::string policy_name;
  std::vector<std::string> ca_certificate_files;
};

struct ExportResult {
  uint64_t records = 0;
  uint64_t first_seq = 0, last_seq = 0;
  uint64_t checkpoint_size = 0;
  std::vector<std::string> files;  // what was written
};

// FAILED_PRECONDITION FILE_UNWRITABLE: "cannot write PATH: WHY".
Error Unwritable(const std::string& path, const std::string& why);

Result<ExportResult> Export(store::Store& store, const audit::NoteKey& key, const ExportRequest& request,
                            std::ostream& out_stream, std::ostream& note_stream);

}  // namespace station::exports
