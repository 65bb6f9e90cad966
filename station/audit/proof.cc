#include "station/audit/proof.h"

#include <algorithm>
#include <cctype>

#include "station/audit/verify.h"

namespace station::audit {
namespace {

constexpr std::string_view kHeader = "station-audit-inclusion-proof v1\n";
constexpr size_t kMaxProofBytes = 256 * 1024;

Error Invalid(const std::string& why) { return MakeError(Code::kDataLoss, "PROOF_INVALID", why); }

std::string NormalSerial(const std::string& serial) {
  std::string out;
  for (char c : serial)
    if (c != ':') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

}  // namespace

Result<std::string> ProveInclusion(store::Store& store, const NoteKey& key, const std::string& serial) {
  const std::string wanted = NormalSerial(serial);
  if (wanted.empty() || wanted.size() > 40 || wanted.find_first_not_of("0123456789abcdef") != std::string::npos)
    return MakeError(Code::kInvalidArgument, "BAD_SERIAL", "'" + serial + "' is not a hex serial number");
  ST_ASSIGN_OR_RETURN(std::optional<uint64_t> found, store.FindSeqBySerial(wanted));
  if (!found)
    return MakeError(Code::kNotFound, "SERIAL_NOT_FOUND", "no issuance with serial " + wanted + " in the audit log");
  const uint64_t seq = *found;
  std::string note;
  ST_ASSIGN_OR_RETURN(Checkpoint cp, FindCheckpoint(store, key, 0, &note));
  if (seq > cp.size)
    return MakeError(Code::kFailedPrecondition, "NOT_YET_CHECKPOINTED",
                     "serial " + wanted + " is record " + std::to_string(seq) + ", after the latest checkpoint (" +
                         std::to_string(cp.size) + " records); retry once the next checkpoint is signed");
  ST_ASSIGN_OR_RETURN(std::vector<Hash> leaves, VerifiedLeaves(store, cp));
  std::optional<AuditRecord> record;
  ST_RETURN_IF_ERROR(store.ForEachRecord(seq - 1, [&](const AuditRecord& r) {
    record = r;
    return false;
  }));
  if (!record || record->seq != seq) return MakeError(Code::kUnavailable, "AUDIT_UNAVAILABLE", "record vanished");
  std::string out(kHeader);
  out += "index " + std::to_string(seq - 1) + "\n";
  std::string canonical = CanonicalRecord(*record);
  out += "record " + Base64Encode(reinterpret_cast<const uint8_t*>(canonical.data()), canonical.size()) + "\n";
  for (const Hash& h : InclusionProof(leaves, seq - 1)) out += "path " + Base64Encode(h.data(), h.size()) + "\n";
  out += "checkpoint\n" + note;
  return out;
}

Result<CheckedProof> CheckInclusionProof(const std::string& proof, const NoteKey& key) {
  if (proof.size() > kMaxProofBytes) return Invalid("proof is larger than 256 KiB");
  if (proof.compare(0, kHeader.size(), kHeader) != 0) return Invalid("not a station inclusion proof (v1)");
  std::string_view rest = std::string_view(proof).substr(kHeader.size());
  std::optional<uint64_t> index;
  std::string canonical;
  std::vector<Hash> path;
  for (;;) {
    size_t end = rest.find('\n');
    if (end == std::string_view::npos) return Invalid("proof ends before its checkpoint");
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (line == "checkpoint") break;
    size_t space = line.find(' ');
    std::string_view name = line.substr(0, space);
    std::string_view value = space == std::string_view::npos ? "" : line.substr(space + 1);
    if (name == "index") {
      if (value.empty() || value.size() > 19 || value.find_first_not_of("0123456789") != std::string_view::npos)
        return Invalid("index is not a number");
      index = std::stoull(std::string(value));
    } else if (name == "record") {
      auto bytes = Base64Decode(value);
      if (!bytes) return Invalid("record is not base64");
      canonical.assign(bytes->begin(), bytes->end());
    } else if (name == "path") {
      auto bytes = Base64Decode(value);
      if (!bytes || bytes->size() != 32) return Invalid("a path entry is not base64 of 32 bytes");
      if (path.size() == 64) return Invalid("path longer than any tree needs");
      Hash h;
      std::copy(bytes->begin(), bytes->end(), h.begin());
      path.push_back(h);
    } else {
      return Invalid("unknown line '" + std::string(name) + "'");
    }
  }
  if (!index || canonical.empty()) return Invalid("proof lacks its index or record");
  ST_ASSIGN_OR_RETURN(Checkpoint cp, OpenCheckpoint(rest, key));
  auto record = ParseCanonicalRecord(canonical);
  if (!record.ok()) return Invalid(record.error().message);
  if (record->seq != *index + 1) return Invalid("the record's seq does not match the proof's index");
  if (Hex(Sha256(record->certificate_der)) != record->certificate_id)
    return Invalid("the record's certificate_id is not the SHA-256 of its certificate");
  if (!VerifyInclusion(*index, cp.size, LeafHash(canonical), path, cp.root))
    return Invalid("the audit path does not lead from the record to the checkpoint's root");
  return CheckedProof{std::move(*record), cp};
}

}  // namespace station::audit
