#include "station/audit/writer.h"

#include <chrono>
#include <optional>

#include "station/base/duration.h"
#include "station/base/log.h"
#include "station/base/thread_name.h"

namespace station::audit {
Error RequestIdReused(const std::string& request_id) {
  return MakeError(Code::kFailedPrecondition, "REQUEST_ID_REUSED",
                   "request_id '" + request_id + "' was already used by this line for a different CSR; use a new request_id");
}

Result<std::unique_ptr<AuditWriter>> AuditWriter::Open(std::shared_ptr<store::Store> store, WriterOptions options) {
  std::unique_ptr<AuditWriter> w(new AuditWriter(std::move(store)));
  w->options_ = std::move(options);
  if (w->options_.max_batch == 0) w->options_.max_batch = 1;
  if (w->options_.checkpoint_every == 0) w->options_.checkpoint_every = 1;
  ST_RETURN_IF_ERROR(w->Resync());
  w->published_checkpoint_ = w->checkpoint_size_;
  w->last_checkpoint_attempt_ = std::chrono::steady_clock::now();
  w->committed_seq_ = w->head_seq_;
  w->thread_ = std::thread([p = w.get()] {
    base::NameThisThread("audit-writer");
    p->Run();
  });
  return w;
}

AuditWriter::~AuditWriter() { Stop(); }

void AuditWriter::Append(AuditRecord draft, policy::Reservation reservation, Done done) {
  draft.kind = RecordKind::kIssuance;
  Enqueue(Pending{std::move(draft), std::move(reservation), std::move(done), nullptr});
}

void AuditWriter::AppendAction(AuditRecord draft, Effect effect, Done done) {
  draft.kind = RecordKind::kOfficer;
  Enqueue(Pending{std::move(draft), policy::Reservation{}, std::move(done), std::move(effect)});
}

void AuditWriter::Enqueue(Pending pending) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(pending));
      // The writer waits for the first record, or for a full batch while it gathers.
      if (queue_.size() == 1 || queue_.size() >= options_.max_batch) cv_.notify_one();
      return;
    }
  }
  pending.done(MakeError(Code::kUnavailable, "SHUTTING_DOWN", "the station is shutting down; retry on another station or later"));
}

void AuditWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

uint64_t AuditWriter::last_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_seq_;
}

void AuditWriter::SetSaturationProbe(std::function<bool()> saturated) {
  std::lock_guard<std::mutex> lock(mu_);
  saturated_ = std::move(saturated);
}

uint64_t AuditWriter::commits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commits_;
}

void AuditWriter::Run() {
  for (;;) {
    std::deque<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [this] { return stopping_ || !queue_.empty(); };
      if (options_.signer && head_seq_ > checkpoint_size_) {
        cv_.wait_until(lock, NextCheckpointDue(), ready);
      } else {
        cv_.wait(lock, ready);
      }
      if (queue_.empty() && stopping_) break;
      // Saturated: requests queue for the CPU, so waiting a moment costs them
      // little, and fewer, larger commits leave more CPU for the rest.
      if (options_.commit_delay.count() > 0 && saturated_ && saturated_())
        cv_.wait_for(lock, options_.commit_delay, [this] { return stopping_ || queue_.size() >= options_.max_batch; });
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) CommitBatch(batch);
    MaybeCheckpoint(false);
  }
  MaybeCheckpoint(true);  // at shutdown: every record under a signed checkpoint
}

std::chrono::steady_clock::time_point AuditWriter::NextCheckpointDue() const {
  return last_checkpoint_attempt_ + options_.checkpoint_interval;
}

void AuditWriter::MaybeCheckpoint(bool force) {
  if (!options_.signer || head_seq_ == checkpoint_size_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool count_due = head_seq_ - checkpoint_size_ >= options_.checkpoint_every;
  const bool time_due = now >= NextCheckpointDue();
  // After a failed attempt, wait a little before the count triggers another:
  // a token that refuses should not be asked again for every batch.
  const bool retry_ok = !last_checkpoint_failed_ || now >= last_checkpoint_attempt_ + std::chrono::seconds(1);
  if (!force && !time_due && !(count_due && retry_ok)) return;
  last_checkpoint_attempt_ = now;
  Status st = WriteCheckpoint();
  last_checkpoint_failed_ = !st.ok();
  if (!st.ok())
    base::LogError("audit checkpoint at size " + std::to_string(head_seq_) + " not signed (retrying): " +
                   st.error().ToString());
}

Status AuditWriter::WriteCheckpoint() {
  const CheckpointSigner& signer = *options_.signer;
  Checkpoint cp{signer.key.name(), head_seq_, tree_.Root()};
  const std::string body = CheckpointBody(cp);
  ST_ASSIGN_OR_RETURN(Bytes signature, signer.sign(body));
  // A signature that does not verify must never be stored as evidence.
  if (!signer.key.Verify(body, signature))
    return MakeError(Code::kInternal, "AUDIT_SIGNATURE_INVALID", "the token's checkpoint signature does not verify");
  const std::string note = SignedCheckpoint(cp, signer.key, signature);
  const int64_t now_ms = base::NowUnixMs();
  ST_RETURN_IF_ERROR(store_->AddCheckpoint(store::StoredCheckpoint{cp.size, now_ms, note, tree_.Serialize()}));
  checkpoint_size_ = cp.size;
  published_checkpoint_ = cp.size;
  checkpoint_unix_ms_ = now_ms;
  return {};
}

void AuditWriter::CommitBatch(std::deque<Pending>& batch) {
  // Another station's batch that raced for the same device or code costs
  // this one a run again, from the records as they came, not a refusal. An
  // issuance record's run sets each field it changes anew; an officer's effect
  // may add to its detail, so officer records (rare) start again from a copy.
  constexpr int kAttempts = 5;
  std::vector<std::pair<size_t, AuditRecord>> officer_drafts;
  for (size_t i = 0; i < batch.size(); ++i)
    if (batch[i].record.kind == RecordKind::kOfficer) officer_drafts.emplace_back(i, batch[i].record);
  std::vector<Result<AppendOutcome>> outcomes;
  Status committed;
  const auto started = std::chrono::steady_clock::now();
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    if (attempt > 1)
      for (const auto& [i, draft] : officer_drafts) batch[i].record = draft;
    committed = resync_ ? Resync() : Status();
    if (committed.ok()) committed = TryBatch(batch, outcomes);
    if (committed.ok() || committed.error().fault != Fault::kStoreConflict) break;
  }
  commit_seconds_.Observe(std::chrono::steady_clock::now() - started);
  if (!committed.ok()) {
    const Error& e = committed.error();
    // Nothing of the batch was kept: no certificate of it leaves the station,
    // not even a replay (its record may have been in this very batch).
    outcomes.resize(batch.size(), e);
    for (auto& outcome : outcomes)
      if (outcome.ok()) outcome = e;
    base::LogError("audit log: " + e.ToString() + "; " + std::to_string(batch.size()) + " requests refused");
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    committed_seq_ = head_seq_;
    ++commits_;
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(outcomes[i]));
}

Status AuditWriter::TryBatch(std::deque<Pending>& batch, std::vector<Result<AppendOutcome>>& outcomes) {
  outcomes.clear();
  auto begun = store_->Begin();
  if (!begun.ok()) return begun.error();
  store::Batch& tx = **begun;
  outcomes.reserve(batch.size());
  const uint64_t start_seq = head_seq_;
  const std::string start_hash = head_hash_;
  const CompactRange start_tree = tree_;
  // When the store drops the whole transaction (a full disk, an I/O error,
  // another station's batch), the rest of the batch must not run, and none
  // of it stands.
  std::optional<Error> lost;
  std::vector<store::IssuanceAsked> expected;
  for (const Pending& p : batch)
    if (p.record.kind == RecordKind::kIssuance)
      expected.push_back({p.record.caller, p.record.request_id, p.reservation});
  if (Status told = tx.Expect(expected); !told.ok()) lost = told.error();
  for (size_t i = 0; i < batch.size() && !lost; ++i) {
    outcomes.push_back(AppendOne(tx, batch[i]));
    if (tx.lost()) lost = outcomes.back().ok() ? tx.Commit().error() : outcomes.back().error();
  }
  Status committed = lost ? Status(*lost) : tx.Commit();
  if (!committed.ok()) {
    head_seq_ = start_seq;
    head_hash_ = start_hash;
    tree_ = start_tree;
    // A commit the store could not confirm may have landed after all.
    if (committed.error().fault == Fault::kStoreUnreachable) resync_ = true;
  }
  return committed;
}

Status AuditWriter::Resync() {
  ST_ASSIGN_OR_RETURN(LogState state,
                      RecoverLogState(*store_, options_.signer ? &options_.signer->key : nullptr));
  head_seq_ = state.size;
  head_hash_ = state.head_hash;
  tree_ = std::move(state.tree);
  checkpoint_size_ = state.checkpoint_size;
  resync_ = false;
  return {};
}

Result<AppendOutcome> AuditWriter::AppendOne(store::Batch& tx, Pending& pending) {
  AuditRecord& r = pending.record;
  const bool officer = r.kind == RecordKind::kOfficer;
  if (!officer) {
    // The authoritative retry check: it also sees this batch's own rows.
    ST_ASSIGN_OR_RETURN(std::optional<AuditRecord> earlier, tx.FindByRequest(r.caller, r.request_id));
    if (earlier) {
      if (earlier->csr_sha256 != r.csr_sha256) return RequestIdReused(r.request_id);
      return AppendOutcome{std::move(*earlier), true};
    }
  }
  r.seq = head_seq_ + 1;
  r.time_unix_ms = base::NowUnixMs();
  std::string canonical;
  // Reserve, then append, all or nothing: a refusal leaves the batch as it was.
  ST_RETURN_IF_ERROR(tx.Atomically([&]() -> Status {
    if (officer && pending.effect) {
      ST_RETURN_IF_ERROR(pending.effect(tx, r));
    } else if (!officer) {
      ST_ASSIGN_OR_RETURN(r.authorization, tx.Reserve(pending.reservation, r.time_unix_ms, r.seq));
    }
    r.prev_hash = head_hash_;
    canonical = CanonicalRecord(r);
    r.record_hash = Hex(Sha256(canonical));
    return tx.Append(r);
  }));
  head_seq_ = r.seq;
  head_hash_ = r.record_hash;
  tree_.Append(LeafHash(canonical));
  return AppendOutcome{r, false};
}

}  // namespace station::audit
