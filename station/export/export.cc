#include "station/export/export.h"


#include <optional>

#include "station/audit/verify.h"
#include "station/base/files.h"
#include "station/base/text.h"
#include "station/export/aws_bulk.h"
#include "station/export/formats.h"

namespace station::exports {
namespace {

constexpr size_t kFlushBytes = 1 << 20;  // a file export is written in pieces of this size

// The records of the export, in order; each checked to continue the verified leaves.
Status ForEachExported(store::Store& store, const ExportRequest& request, const audit::Checkpoint& cp,
                       const std::vector<audit::Hash>& leaves,
                       const std::function<Status(const audit::AuditRecord&)>& fn) {
  Status result;
  ST_RETURN_IF_ERROR(store.ForEachRecord(request.since_seq, [&](const audit::AuditRecord& r) {
    if (r.seq > cp.size) return false;
    // The row read now must be the one whose leaf was verified a moment ago.
    if (audit::RecordLeafHash(r) != leaves[r.seq - 1]) {
      result = MakeError(Code::kDataLoss, "AUDIT_LOG_BROKEN", "record " + std::to_string(r.seq) + " changed during the export");
      return false;
    }
    // Exports are of certificates; officers' actions are read with `audit actions`.
    if (r.kind != audit::RecordKind::kIssuance) return true;
    if (!request.profiles.empty() && !request.profiles.count(r.profile)) return true;
    result = fn(r);
    return result.ok();
  }));
  return result;
}

}  // namespace

Error Unwritable(const std::string& path, const std::string& why) {
  return MakeError(Code::kFailedPrecondition, "FILE_UNWRITABLE", "cannot write " + path + ": " + why);
}

Result<Format> ParseFormat(const std::string& name) {
  if (name == "jsonl") return Format::kJsonl;
  if (name == "csv") return Format::kCsv;
  if (name == "aws-jitr-allowlist") return Format::kAwsJitrAllowlist;
  if (name == "aws-bulk") return Format::kAwsBulk;
  if (name == "aws-provisioning-allowlist") return Format::kAwsProvisioningAllowlist;
  return MakeError(Code::kInvalidArgument, "USAGE",
                   "unknown export format '" + name +
                       "' (jsonl, csv, aws-jitr-allowlist, aws-bulk, aws-provisioning-allowlist)");
}

Result<ExportResult> Export(store::Store& store, const audit::NoteKey& key, const ExportRequest& request,
                            std::ostream& out_stream, std::ostream& note_stream) {
  std::string note;
  ST_ASSIGN_OR_RETURN(audit::Checkpoint cp, audit::FindCheckpoint(store, key, request.checkpoint_size, &note));
  if (request.since_seq > cp.size)
    return MakeError(Code::kInvalidArgument, "BAD_RANGE",
                     "--since-seq " + std::to_string(request.since_seq) + " is past the checkpoint (" +
                         std::to_string(cp.size) + " records)");
  ST_ASSIGN_OR_RETURN(std::vector<audit::Hash> leaves, audit::VerifiedLeaves(store, cp));
  ExportResult result;
  result.checkpoint_size = cp.size;
  if (request.format == Format::kAwsBulk) {
    ST_RETURN_IF_ERROR(WriteAwsBulk(store, request, note, [&](const IssuanceVisitor& fn) {
      return ForEachExported(store, request, cp, leaves, fn);
    }, result));
    return result;
  }
  if (request.format == Format::kAwsJitrAllowlist && request.profiles.empty())
    return MakeError(Code::kFailedPrecondition, "NO_JITR_PROFILE",
                     "no profile is marked for JITR ([aws] jitr = true): an allow-list must never vouch for claim "
                     "or other certificates the activation function should not activate");
  if (request.format == Format::kAwsProvisioningAllowlist && request.profiles.empty())
    return MakeError(Code::kFailedPrecondition, "NO_PROVISIONING_PROFILE",
                     "name the profiles whose devices may provision (--profile), or mark a claim profile "
                     "([aws] claim = true)");
  // Line formats: to standard output, or into a NewFile, so a reader never
  // sees half an export (and nobody's symlink or file is written through).
  std::optional<base::NewFile> file;
  if (!request.out.empty()) {
    ST_ASSIGN_OR_RETURN(base::NewFile created, base::NewFile::Create(request.out, 0644));
    file.emplace(std::move(created));
  }
  std::string pending;
  auto emit = [&](const std::string& text, bool last) -> Status {
    if (!file) {
      out_stream << text;
      if (!out_stream) return Unwritable("standard output", "write failed");
      return {};
    }
    pending += text;
    if (!last && pending.size() < kFlushBytes) return {};
    ST_RETURN_IF_ERROR(file->Append(pending));
    pending.clear();
    return {};
  };
  if (request.format == Format::kCsv) ST_RETURN_IF_ERROR(emit(CsvHeader(), false));
  ST_RETURN_IF_ERROR(ForEachExported(store, request, cp, leaves, [&](const audit::AuditRecord& r) -> Status {
    switch (request.format) {
      case Format::kJsonl: ST_RETURN_IF_ERROR(emit(audit::RecordJson(r) + "\n", false)); break;
      case Format::kCsv: ST_RETURN_IF_ERROR(emit(CsvLine(r), false)); break;
      case Format::kAwsJitrAllowlist: {
        ST_ASSIGN_OR_RETURN(CertFacts facts, ReadCertFacts(r));
        ST_RETURN_IF_ERROR(emit(AllowlistLine(r, facts), false));
        break;
      }
      case Format::kAwsProvisioningAllowlist: {
        ST_ASSIGN_OR_RETURN(CertFacts facts, ReadCertFacts(r));
        ST_RETURN_IF_ERROR(emit(ProvisioningLine(r, facts, request.claim_profiles.count(r.profile) > 0), false));
        break;
      }
      case Format::kAwsBulk: break;
    }
    if (result.records++ == 0) result.first_seq = r.seq;
    result.last_seq = r.seq;
    return {};
  }));
  ST_RETURN_IF_ERROR(emit("", true));
  if (!file) {
    out_stream.flush();
    note_stream << note;
    return result;
  }
  ST_RETURN_IF_ERROR(base::WriteFile(request.out + ".checkpoint", note, 0644));
  ST_RETURN_IF_ERROR(file->Commit());
  result.files = {request.out, request.out + ".checkpoint"};
  return result;
}

}  // namespace station::exports
