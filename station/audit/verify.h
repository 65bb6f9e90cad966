// Verifying the audit log: the hash chain record by record, the Merkle tree
// against every signed checkpoint, and consistency between checkpoints.
//
// What went wrong is named, not just detected: a changed record, removed or
// inserted records, records out of order, a log cut back behind a checkpoint,
// or records rewritten wholesale (chain recomputed) under a checkpoint.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "station/audit/checkpoint.h"
#include "station/audit/record.h"
#include "station/audit/state.h"
#include "station/store/store.h"

namespace station::audit {

enum class Tampering { kChanged, kRemoved, kInserted, kReordered, kTruncated, kRewritten, kBadCheckpoint };
const char* TamperingName(Tampering kind) noexcept;  // "changed", "removed", ...

struct LogProblem {
  Tampering kind = Tampering::kChanged;
  uint64_t seq = 0;  // the first record concerned (for a checkpoint: its tree size)
  std::string what;  // one sentence for people
};

// DATA_LOSS AUDIT_LOG_BROKEN for a problem found in a log.
Error LogBroken(const LogProblem& problem);

// Checks records one by one as the continuation of a log whose last record
// (seq next_seq - 1) has hash prev_hash.
class ChainChecker {
 public:
  using FindSeq = std::function<Result<std::optional<uint64_t>>(const std::string& record_hash)>;
  ChainChecker(uint64_t next_seq, std::string prev_hash, FindSeq find)
      : next_seq_(next_seq), prev_hash_(std::move(prev_hash)), find_(std::move(find)) {}

  // Nothing when `record` continues the log (and the checker moves past it);
  // otherwise what is wrong with the log at this point.
  Result<std::optional<LogProblem>> Next(const AuditRecord& record);

  uint64_t next_seq() const noexcept { return next_seq_; }
  const std::string& prev_hash() const noexcept { return prev_hash_; }

 private:
  Result<LogProblem> Classify(const AuditRecord& record);
  uint64_t next_seq_;
  std::string prev_hash_;
  FindSeq find_;
};

using store::StoredCheckpoint;

struct VerifyReport {
  uint64_t records = 0;      // records that verified, from the first
  uint64_t checkpoints = 0;  // checkpoints whose signature and root verified
  std::optional<Checkpoint> latest;  // the latest checkpoint that verified
  std::optional<LogProblem> problem;  // the first problem, in record order
  std::optional<StateProblem> state_problem;  // the first registry row the log does not explain (state.h)
};

// `stationctl audit verify`: every record and every checkpoint, and every
// registry row against the records (state.h). Without a key
// only the chain is checked, and a log that has checkpoints is refused
// (FAILED_PRECONDITION AUDIT_KEY_NOT_CONFIGURED).
Result<VerifyReport> VerifyLog(store::Store& store, const NoteKey* key);

// The leaf hashes of records 1..checkpoint.size, after checking that they hash
// to the checkpoint's signed root (DATA_LOSS AUDIT_LOG_BROKEN otherwise):
// what proofs and exports are made from.
Result<std::vector<Hash>> VerifiedLeaves(store::Store& store, const Checkpoint& checkpoint);

// The stored checkpoint of that size (or the latest when size is 0), opened
// with `key`. NOT_FOUND AUDIT_NO_CHECKPOINT when there is none.
Result<Checkpoint> FindCheckpoint(store::Store& store, const NoteKey& key, uint64_t size, std::string* note = nullptr);

// Where a log stands after its records verified: what the writer continues from.
struct LogState {
  uint64_t size = 0;
  std::string head_hash = kGenesisHash;
  CompactRange tree;
  uint64_t checkpoint_size = 0;  // the latest signed checkpoint's size (0: none)
};

// The server's startup check: the latest checkpoint's signature, its tree
// edge against its root, the chain of every record after it, every record
// from 1 to the last present once, and every registry row explained by the
// records. DATA_LOSS AUDIT_LOG_BROKEN or AUDIT_STATE_BROKEN names the problem.
Result<LogState> RecoverLogState(store::Store& store, const NoteKey* key);

}  // namespace station::audit
