// The single writer of the audit log, with group commit.
//
// Workers hand over finished records; one thread takes every record waiting
// (up to max_batch), appends them in one transaction, fsyncs once, and only
// then tells each waiting request its record is durable. A certificate is
// never released before that call. While the station is saturated, it first
// gathers records for up to commit_delay: fewer, larger commits cost less CPU
// per record, and the requests are queueing anyway. Otherwise it commits at once.
//
// The same thread keeps the Merkle tree's right edge and signs a checkpoint
// every `checkpoint_every` records, after `checkpoint_interval` when fewer
// arrived, and at Stop(); a checkpoint is its own small transaction.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "station/audit/checkpoint.h"
#include "station/base/metrics.h"
#include "station/audit/verify.h"
#include "station/policy/reservation.h"
#include "station/store/store.h"

namespace station::audit {

// What happened to an appended record.
struct AppendOutcome {
  AuditRecord record;     // as stored (with seq and hashes), or the earlier record on a replay
  bool replayed = false;  // the same caller + request_id + CSR was recorded before
};

// The refusal for a caller's request_id recorded earlier with another CSR.
Error RequestIdReused(const std::string& request_id);

// Signs checkpoint note text with the audit key (in the token).
struct CheckpointSigner {
  NoteKey key;
  std::function<Result<Bytes>(std::string_view text)> sign;
};

// How the audit writer commits and checkpoints; the station's config holds
// one ([audit]), so each default is written here alone.
struct WriterOptions {
  // Records per group commit (one transaction, one fsync).
  // Default: 512.
  size_t max_batch = 512;
  // Records between signed checkpoints.
  // Default: 1000.
  uint64_t checkpoint_every = 1000;
  // At most this long between checkpoints while records arrive.
  // Default: 60 s.
  std::chrono::milliseconds checkpoint_interval{60'000};
  // While the station is saturated (SetSaturationProbe), how long the writer
  // gathers records before a commit; 0: never. bench/README.md has what it
  // saves. Default: 2 ms.
  std::chrono::microseconds commit_delay{2000};
  // Signs checkpoints with the audit key; none: no checkpoints (tests of the
  // bare log). Set by the station from [audit] key_uri, never read from a file.
  std::optional<CheckpointSigner> signer;
};

class AuditWriter {
 public:
  using Done = std::function<void(Result<AppendOutcome>)>;

  // Verifies the log since its latest checkpoint first (RecoverLogState) and
  // refuses to open a log that does not verify.
  // The writer is the store's only writer of records and checkpoints.
  static Result<std::unique_ptr<AuditWriter>> Open(std::shared_ptr<store::Store> store, WriterOptions options);
  ~AuditWriter();  // Stop()s

  // Queues a record (seq, time, hashes and authorization are filled in here).
  // `done` runs on the writer thread once the record is durable, or with the
  // error: REQUEST_ID_REUSED when the caller's request_id is recorded with
  // another CSR, a refusal of the reservation (store::Batch::Reserve),
  // SERIAL_COLLISION, or AUDIT_UNAVAILABLE (STORE_UNAVAILABLE) when the store
  // refused the commit. A batch that a shared store lost to another station's
  // (STORE_CONFLICT) is run again here, a few times, before anyone hears of it.
  void Append(AuditRecord draft, policy::Reservation reservation, Done done);

  // What an officer's action changes in the store (the CA set, the
  // approvals), as typed changes made in the batch of the action's record, so
  // both are durable or neither. It sees the record with its seq and time,
  // and may fill in its detail before the record is hashed.
  using Effect = std::function<Status(store::Changes& changes, AuditRecord& record)>;

  // Queues an officer record (draft.kind kOfficer) and its effect; `done` as
  // for Append, or with the effect's refusal (nothing is then recorded).
  void AppendAction(AuditRecord draft, Effect effect, Done done);

  // Whether requests are waiting for the station's CPU (called by the writer
  // thread, under its lock: it must be quick and take no lock that is held
  // while calling into the writer). nullptr: never saturated, the default.
  void SetSaturationProbe(std::function<bool()> saturated);

  // Commits what is queued and stops the thread. Appends after this fail.
  void Stop();

  uint64_t last_seq() const;
  // Group commits made since Open (last_seq / commits: records per commit).
  uint64_t commits() const;
  // The tree size of the latest signed checkpoint (0: none yet).
  uint64_t checkpoint_size() const noexcept { return published_checkpoint_.load(); }
  // When this writer last signed one (0: not yet).
  int64_t checkpoint_unix_ms() const noexcept { return checkpoint_unix_ms_.load(); }
  // How long each group commit took (its retries included), for /metrics.
  const metrics::Histogram& commit_seconds() const noexcept { return commit_seconds_; }

 private:
  struct Pending {
    AuditRecord record;
    policy::Reservation reservation;
    Done done;
    Effect effect;  // officer records only
  };
  void Enqueue(Pending pending);
  explicit AuditWriter(std::shared_ptr<store::Store> store) : store_(std::move(store)) {}
  void Run();
  // Signs a checkpoint when one is due (or `force`d and records are new).
  void MaybeCheckpoint(bool force);
  Status WriteCheckpoint();
  std::chrono::steady_clock::time_point NextCheckpointDue() const;
  void CommitBatch(std::deque<Pending>& batch);
  // One attempt at the batch: its outcomes, and whether it committed. On
  // failure the writer's head is back where the batch began.
  Status TryBatch(std::deque<Pending>& batch, std::vector<Result<AppendOutcome>>& outcomes);
  // Takes up the log where the store has it: after a commit whose outcome is
  // unknown (the shared store went away during it), or a failed attempt.
  Status Resync();
  // Reserves and appends the record, all or nothing within the batch.
  Result<AppendOutcome> AppendOne(store::Batch& batch, Pending& pending);

  const std::shared_ptr<store::Store> store_;  // written only by the writer thread after Open
  WriterOptions options_;
  uint64_t head_seq_ = 0;   // writer thread only (and Open)
  std::string head_hash_;   // writer thread only
  CompactRange tree_;       // writer thread only
  uint64_t checkpoint_size_ = 0;  // writer thread only
  std::chrono::steady_clock::time_point last_checkpoint_attempt_;  // writer thread only
  bool last_checkpoint_failed_ = false;                            // writer thread only
  bool resync_ = false;  // writer thread only: the store may hold more than head_seq_
  std::atomic<uint64_t> published_checkpoint_{0};
  std::atomic<int64_t> checkpoint_unix_ms_{0};
  metrics::Histogram commit_seconds_;

  mutable std::mutex mu_;  // guards queue_, stopping_, committed_seq_, commits_, saturated_
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  uint64_t committed_seq_ = 0;
  uint64_t commits_ = 0;
  std::function<bool()> saturated_;
  std::thread thread_;
};

}  // namespace station::audit
