#include "station/audit/verify.h"

#include "station/audit/state.h"

namespace station::audit {
namespace {

// How far back a renumbering is looked for when a record's predecessor is gone.
constexpr uint64_t kRenumberSearch = 64;

std::string Range(uint64_t first, uint64_t last) {
  return first == last ? "record " + std::to_string(first)
                       : "records " + std::to_string(first) + ".." + std::to_string(last);
}

bool HashesWithSeq(const AuditRecord& r, uint64_t seq) {
  AuditRecord copy = r;
  copy.seq = seq;
  return ComputeRecordHash(copy) == r.record_hash;
}

}  // namespace

Error LogBroken(const LogProblem& p) {
  return MakeError(Code::kDataLoss, "AUDIT_LOG_BROKEN",
                   std::string("audit log does not verify (") + TamperingName(p.kind) + ", record " +
                       std::to_string(p.seq) + "): " + p.what +
                       ". The station will not issue on a log it cannot vouch for: keep the database as evidence "
                       "and run `stationctl audit verify` for the full report");
}

const char* TamperingName(Tampering kind) noexcept {
  switch (kind) {
    case Tampering::kChanged: return "changed";
    case Tampering::kRemoved: return "removed";
    case Tampering::kInserted: return "inserted";
    case Tampering::kReordered: return "reordered";
    case Tampering::kTruncated: return "truncated";
    case Tampering::kRewritten: return "rewritten";
    case Tampering::kBadCheckpoint: return "bad checkpoint";
  }
  return "unknown";
}

Result<std::optional<LogProblem>> ChainChecker::Next(const AuditRecord& r) {
  const uint64_t k = next_seq_;
  if (r.seq > k)
    return std::optional<LogProblem>(
        LogProblem{Tampering::kRemoved, k, Range(k, r.seq - 1) + " missing: the log goes from record " +
                                               std::to_string(k - 1) + " to record " + std::to_string(r.seq)});
  const bool own_ok = ComputeRecordHash(r) == r.record_hash;
  if (own_ok && r.prev_hash == prev_hash_) {
    if (r.kind == RecordKind::kIssuance && Hex(Sha256(r.certificate_der)) != r.certificate_id)
      return std::optional<LogProblem>(LogProblem{
          Tampering::kChanged, k, "record " + std::to_string(k) + " changed: its certificate_id is not the SHA-256 "
                                  "of its certificate"});
    prev_hash_ = r.record_hash;
    ++next_seq_;
    return std::optional<LogProblem>();
  }
  ST_ASSIGN_OR_RETURN(LogProblem problem, Classify(r));
  return std::optional<LogProblem>(std::move(problem));
}

Result<LogProblem> ChainChecker::Classify(const AuditRecord& r) {
  const uint64_t k = next_seq_;
  const std::string at = "record " + std::to_string(k);
  if (r.prev_hash == prev_hash_)
    return LogProblem{Tampering::kChanged, k, at + " changed: its fields no longer match its record_hash"};
  // An unaltered record whose seq was renumbered still hashes with its
  // original seq; its link names the record it was appended after.
  const bool own_ok = ComputeRecordHash(r) == r.record_hash;
  std::optional<uint64_t> original;
  if (own_ok) original = k;
  for (uint64_t s = k > kRenumberSearch ? k - kRenumberSearch : 1; !original && s <= k + kRenumberSearch; ++s)
    if (s != k && HashesWithSeq(r, s)) original = s;
  if (original) {
    ST_ASSIGN_OR_RETURN(std::optional<uint64_t> after, find_(r.prev_hash));
    if (after && *after >= k)
      return LogProblem{Tampering::kReordered, k,
                        at + " is out of order: it was appended after the record now numbered " +
                            std::to_string(*after)};
    if (after && *after + 1 < k)
      return LogProblem{Tampering::kInserted, *after + 1,
                        Range(*after + 1, k - 1) + " inserted: the record now numbered " + std::to_string(k) +
                            " was appended right after record " + std::to_string(*after)};
    if (!after && own_ok && k > 1)
      return LogProblem{Tampering::kChanged, k - 1,
                        "record " + std::to_string(k - 1) + " changed: " + at +
                            "'s link to it no longer matches (its record_hash was recomputed)"};
    if (!after && *original > k)
      return LogProblem{Tampering::kRemoved, k,
                        Range(k, *original - 1) + " removed and the records after renumbered: the record now " +
                            "numbered " + std::to_string(k) + " was appended as " + std::to_string(*original)};
  }
  return LogProblem{Tampering::kChanged, k, at + " changed: neither its fields nor its link to the record before match"};
}

namespace {

// Runs the records after `after_seq` through the checker, handing each good
// one to `fn` (which may stop the walk); the first problem ends it.
Result<std::optional<LogProblem>> WalkChain(store::Store& store, uint64_t after_seq, ChainChecker& checker,
                                            const std::function<bool(const AuditRecord&)>& fn) {
  std::optional<LogProblem> problem;
  Status io;
  ST_RETURN_IF_ERROR(store.ForEachRecord(after_seq, [&](const AuditRecord& r) {
    auto step = checker.Next(r);
    if (!step.ok()) io = step.error();
    if (step.ok() && step->has_value()) problem = **step;
    return io.ok() && !problem && fn(r);
  }));
  if (!io.ok()) return io.error();
  return problem;
}

// A stored checkpoint whose signature verified.
struct OpenedCheckpoint {
  StoredCheckpoint stored;
  Checkpoint signed_;
};

Result<OpenedCheckpoint> OpenStored(const StoredCheckpoint& c, const NoteKey* key) {
  if (key == nullptr)
    return MakeError(Code::kFailedPrecondition, "AUDIT_KEY_NOT_CONFIGURED",
                     "the log has signed checkpoints but no audit public key is configured ([audit] public_key)");
  auto opened = OpenCheckpoint(c.note, *key);
  if (!opened.ok()) return opened.error();
  if (opened->size != c.size)
    return MakeError(Code::kDataLoss, "AUDIT_CHECKPOINT_INVALID",
                     "the note says size " + std::to_string(opened->size) + " but is stored as size " +
                         std::to_string(c.size));
  return OpenedCheckpoint{c, *opened};
}

}  // namespace

Result<VerifyReport> VerifyLog(store::Store& store, const NoteKey* key) {
  VerifyReport report;
  ST_ASSIGN_OR_RETURN(auto stored, store.Checkpoints(false));
  std::vector<OpenedCheckpoint> checkpoints;
  std::optional<LogProblem> checkpoint_problem;  // the first bad signature, by size
  for (const StoredCheckpoint& c : stored) {
    auto opened = OpenStored(c, key);
    if (opened.ok()) {
      checkpoints.push_back(std::move(*opened));
    } else if (opened.error().reason == "AUDIT_KEY_NOT_CONFIGURED") {
      return opened.error();
    } else if (!checkpoint_problem) {
      checkpoint_problem =
          LogProblem{Tampering::kBadCheckpoint, c.size, "checkpoint at size " + std::to_string(c.size) + ": " +
                                                            opened.error().message};
    }
  }
  ChainChecker checker(1, kGenesisHash, [&store](const std::string& h) { return store.FindSeqByHash(h); });
  std::vector<Hash> leaves;
  CompactRange tree;
  size_t next_cp = 0;
  const OpenedCheckpoint* previous = nullptr;
  std::optional<LogProblem> problem;
  auto chain_problem = WalkChain(store, 0, checker, [&](const AuditRecord& r) {
    leaves.push_back(RecordLeafHash(r));
    tree.Append(leaves.back());
    if (next_cp == checkpoints.size() || checkpoints[next_cp].signed_.size != tree.size()) return true;
    const OpenedCheckpoint& cp = checkpoints[next_cp++];
    const uint64_t from = previous ? previous->signed_.size + 1 : 1;
    if (tree.Root() != cp.signed_.root) {
      problem = LogProblem{Tampering::kRewritten, from,
                           Range(from, cp.signed_.size) + " do not hash to the root signed in checkpoint " +
                               std::to_string(cp.signed_.size) + ": records in that range were rewritten (hash "
                               "chain recomputed)"};
      return false;
    }
    if (previous && !VerifyConsistency(previous->signed_.size, cp.signed_.size, previous->signed_.root,
                                       cp.signed_.root, ConsistencyProof(leaves, previous->signed_.size))) {
      problem = LogProblem{Tampering::kBadCheckpoint, cp.signed_.size,
                           "checkpoint " + std::to_string(cp.signed_.size) + " is not consistent with checkpoint " +
                               std::to_string(previous->signed_.size)};
      return false;
    }
    if (cp.stored.tree_edge != tree.Serialize()) {
      problem = LogProblem{Tampering::kBadCheckpoint, cp.signed_.size,
                           "the stored tree edge of checkpoint " + std::to_string(cp.signed_.size) +
                               " was changed (the server resumes from it)"};
      return false;
    }
    previous = &cp;
    ++report.checkpoints;
    report.latest = cp.signed_;
    return true;
  });
  if (!chain_problem.ok()) return chain_problem.error();
  if (*chain_problem) problem = *chain_problem;
  report.records = checker.next_seq() - 1;
  if (!problem && next_cp < checkpoints.size()) {
    const OpenedCheckpoint& cut = checkpoints.back();
    problem = LogProblem{Tampering::kTruncated, report.records + 1,
                         "the log ends at record " + std::to_string(report.records) + " but checkpoint " +
                             std::to_string(cut.signed_.size) + " covers " + std::to_string(cut.signed_.size) +
                             " records: " + Range(report.records + 1, cut.signed_.size) + " removed (log cut back)"};
  }
  // Report whichever problem comes first in the log.
  if (checkpoint_problem && (!problem || checkpoint_problem->seq < problem->seq)) problem = checkpoint_problem;
  report.problem = problem;
  ST_ASSIGN_OR_RETURN(report.state_problem, CheckState(store));
  return report;
}

Result<LogState> RecoverLogState(store::Store& store, const NoteKey* key) {
  LogState state;
  ST_ASSIGN_OR_RETURN(auto latest, store.Checkpoints(true));
  if (!latest.empty()) {
    auto opened = OpenStored(latest.front(), key);
    if (!opened.ok()) {
      if (opened.error().code != Code::kDataLoss) return opened.error();
      return LogBroken({Tampering::kBadCheckpoint, latest.front().size, opened.error().message});
    }
    const Checkpoint& cp = opened->signed_;
    auto edge = CompactRange::Parse(cp.size, latest.front().tree_edge);
    if (!edge.ok() || edge->Root() != cp.root)
      return LogBroken({Tampering::kBadCheckpoint, cp.size, "the stored tree edge does not hash to the signed root"});
    state.tree = std::move(*edge);
    state.checkpoint_size = cp.size;
    std::optional<AuditRecord> last;
    ST_RETURN_IF_ERROR(store.ForEachRecord(cp.size - 1, [&](const AuditRecord& r) {
      last = r;
      return false;
    }));
    if (!last || last->seq != cp.size) {
      // An I/O error must read as one, not as a log cut back.
      ST_ASSIGN_OR_RETURN(store::RecordCount count, store.CountRecords());
      const uint64_t present = count.highest;
      if (present < cp.size)
        return LogBroken({Tampering::kTruncated, present + 1,
                       "the log ends at record " + std::to_string(present) + " but the latest checkpoint covers " +
                           std::to_string(cp.size) + " records (log cut back)"});
      return LogBroken({Tampering::kRemoved, cp.size, "record " + std::to_string(cp.size) + " is missing"});
    }
    if (ComputeRecordHash(*last) != last->record_hash)
      return LogBroken({Tampering::kChanged, cp.size,
                     "record " + std::to_string(cp.size) + " changed: its fields no longer match its record_hash"});
    state.head_hash = last->record_hash;
    state.size = cp.size;
  }
  ChainChecker checker(state.size + 1, state.head_hash, [&store](const std::string& h) { return store.FindSeqByHash(h); });
  ST_ASSIGN_OR_RETURN(std::optional<LogProblem> problem, WalkChain(store, state.size, checker, [&](const AuditRecord& r) {
                        state.tree.Append(RecordLeafHash(r));
                        return true;
                      }));
  if (problem) return LogBroken(*problem);
  state.size = checker.next_seq() - 1;
  state.head_hash = checker.prev_hash();
  // Records below the checkpoint are not rehashed here, but none may be
  // missing or doubled: a hole there would let the station sign a new
  // checkpoint over a tree its own export then calls rewritten.
  ST_ASSIGN_OR_RETURN(store::RecordCount count, store.CountRecords());
  const uint64_t records = count.records;
  const uint64_t highest = count.highest;
  if (records != highest || highest != state.size)
    return LogBroken({records < highest ? Tampering::kRemoved : Tampering::kInserted, state.checkpoint_size,
                   "the log holds " + std::to_string(records) + " records numbered up to " + std::to_string(highest) +
                       " (records 1 to " + std::to_string(state.size) + " expected, each once)"});
  ST_ASSIGN_OR_RETURN(std::optional<StateProblem> unexplained, CheckState(store));
  if (unexplained) return StateBroken(*unexplained);
  return state;
}

Result<std::vector<Hash>> VerifiedLeaves(store::Store& store, const Checkpoint& checkpoint) {
  std::vector<Hash> leaves;
  leaves.reserve(checkpoint.size);
  ST_RETURN_IF_ERROR(store.ForEachRecord(0, [&](const AuditRecord& r) {
    if (r.seq > checkpoint.size) return false;
    leaves.push_back(RecordLeafHash(r));
    return true;
  }));
  if (leaves.size() != checkpoint.size || RootOf(leaves) != checkpoint.root)
    return LogBroken({Tampering::kRewritten, 1,
                   "records 1.." + std::to_string(checkpoint.size) + " do not hash to the root of checkpoint " +
                       std::to_string(checkpoint.size)});
  return leaves;
}

Result<Checkpoint> FindCheckpoint(store::Store& store, const NoteKey& key, uint64_t size, std::string* note) {
  ST_ASSIGN_OR_RETURN(auto all, store.Checkpoints(size == 0));
  for (const StoredCheckpoint& c : all) {
    if (size != 0 && c.size != size) continue;
    ST_ASSIGN_OR_RETURN(OpenedCheckpoint opened, OpenStored(c, &key));
    if (note) *note = c.note;
    return opened.signed_;
  }
  if (size == 0)
    return MakeError(Code::kNotFound, "AUDIT_NO_CHECKPOINT",
                     "the log has no signed checkpoint yet (the server signs one every [audit] checkpoint_every records, "
                     "after checkpoint_interval, and at shutdown)");
  return MakeError(Code::kNotFound, "AUDIT_NO_CHECKPOINT", "the log has no checkpoint of size " + std::to_string(size));
}

}  // namespace station::audit
