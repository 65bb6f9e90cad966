#include "station/audit/writer.h"

#include <chrono>
#include <optional>

#include "station/base/log.h"
#include "station/base/thread_name.h"

namespace station::audit {
Error RequestIdReused(const std::string& request_id) {
  return MakeError(Code::kFailedPrecondition, "REQUEST_ID_REUSED",
                   "request_id '" + request_id + "' was already used by this line for a different CSR; use a new request_id");
}

Result<std::unique_ptr<AuditWriter>> AuditWriter::Open(const std::string& path, WriterOptions options) {
  ST_ASSIGN_OR_RETURN(Db db, OpenDb(path, true));
  std::unique_ptr<AuditWriter> w(new AuditWriter(std::move(db)));
  w->options_ = std::move(options);
  if (w->options_.max_batch == 0) w->options_.max_batch = 1;
  if (w->options_.checkpoint_every == 0) w->options_.checkpoint_every = 1;
  sqlite3* raw = w->db_.get();
  if (!w->options_.durable) ST_RETURN_IF_ERROR(Exec(raw, "PRAGMA synchronous=OFF"));
  ST_ASSIGN_OR_RETURN(LogState state, RecoverLogState(raw, w->options_.signer ? &w->options_.signer->key : nullptr));
  ST_ASSIGN_OR_RETURN(w->insert_, Prepare(raw, "INSERT INTO issuance (seq, time_unix_ms, request_id, caller, "
                                               "device_id, profile, serial_hex, certificate_id, spki_sha256, subject, "
                                               "issuer_key_id, csr_sha256, thing_name, thing_type, thing_attributes, "
                                               "authorization, certificate_der, prev_hash, record_hash) VALUES "
                                               "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"));
  ST_ASSIGN_OR_RETURN(w->insert_officer_, Prepare(raw, "INSERT INTO officer_action (seq, time_unix_ms, action_id, "
                                                       "caller, action, profile, device_id, issuer_key_id, detail, "
                                                       "prev_hash, record_hash) VALUES "
                                                       "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"));
  ST_ASSIGN_OR_RETURN(w->find_, Prepare(raw, FindByRequestSql()));
  ST_ASSIGN_OR_RETURN(w->savepoint_, Prepare(raw, "SAVEPOINT record"));
  ST_ASSIGN_OR_RETURN(w->rollback_to_, Prepare(raw, "ROLLBACK TO record"));
  ST_ASSIGN_OR_RETURN(w->release_, Prepare(raw, "RELEASE record"));
  ST_ASSIGN_OR_RETURN(w->begin_, Prepare(raw, "BEGIN IMMEDIATE"));
  ST_ASSIGN_OR_RETURN(w->commit_, Prepare(raw, "COMMIT"));
  ST_ASSIGN_OR_RETURN(w->rollback_, Prepare(raw, "ROLLBACK"));
  ST_ASSIGN_OR_RETURN(w->insert_checkpoint_,
                      Prepare(raw, "INSERT INTO checkpoint (size, time_unix_ms, note, tree_edge) VALUES (?1,?2,?3,?4)"));
  w->head_seq_ = state.size;
  w->head_hash_ = state.head_hash;
  w->tree_ = std::move(state.tree);
  w->checkpoint_size_ = state.checkpoint_size;
  w->published_checkpoint_ = state.checkpoint_size;
  w->last_checkpoint_attempt_ = std::chrono::steady_clock::now();
  w->committed_seq_ = w->head_seq_;
  w->thread_ = std::thread([p = w.get()] {
    base::NameThisThread("audit-writer");
    p->Run();
  });
  return w;
}

AuditWriter::~AuditWriter() { Stop(); }

void AuditWriter::Append(AuditRecord draft, Claims claims, Done done) {
  draft.kind = RecordKind::kIssuance;
  Enqueue(Pending{std::move(draft), std::move(claims), std::move(done), nullptr});
}

void AuditWriter::AppendAction(AuditRecord draft, Effect effect, Done done) {
  draft.kind = RecordKind::kOfficer;
  Enqueue(Pending{std::move(draft), Claims{}, std::move(done), std::move(effect)});
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
  const std::string edge = tree_.Serialize();
  sqlite3_stmt* ins = insert_checkpoint_.get();
  sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(cp.size));
  sqlite3_bind_int64(ins, 2, NowUnixMs());
  BindText(ins, 3, note);
  sqlite3_bind_blob(ins, 4, edge.data(), static_cast<int>(edge.size()), SQLITE_STATIC);
  int rc = sqlite3_step(ins);
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);
  if (rc != SQLITE_DONE) return StorageError(db_.get(), "storing a checkpoint");
  checkpoint_size_ = cp.size;
  published_checkpoint_ = cp.size;
  return {};
}

void AuditWriter::CommitBatch(std::deque<Pending>& batch) {
  sqlite3* db = db_.get();
  std::vector<Result<AppendOutcome>> outcomes;
  outcomes.reserve(batch.size());
  auto fail_all = [&](const Error& e) {
    for (auto& p : batch) p.done(e);
  };
  if (sqlite3_step(begin_.get()) != SQLITE_DONE) {
    Error e = StorageError(db, "BEGIN");
    sqlite3_reset(begin_.get());
    return fail_all(e);
  }
  sqlite3_reset(begin_.get());
  const uint64_t start_seq = head_seq_;
  const std::string start_hash = head_hash_;
  const CompactRange start_tree = tree_;
  // On a full disk or an I/O error SQLite may roll the whole transaction
  // back by itself: then the rest of the batch must not run (it would commit
  // row by row, outside the chain's transaction), and none of it stands.
  std::optional<Error> lost;
  for (size_t i = 0; i < batch.size() && !lost; ++i) {
    outcomes.push_back(AppendOne(batch[i]));
    if (sqlite3_get_autocommit(db))
      lost = outcomes.back().ok() ? StorageError(db, "appending audit records") : outcomes.back().error();
  }
  int rc = SQLITE_ABORT;
  if (!lost) {
    rc = sqlite3_step(commit_.get());
    sqlite3_reset(commit_.get());
  }
  if (rc != SQLITE_DONE) {
    Error e = lost ? *lost : StorageError(db, "committing audit records");
    if (!sqlite3_get_autocommit(db)) {
      sqlite3_step(rollback_.get());
      sqlite3_reset(rollback_.get());
    }
    head_seq_ = start_seq;
    head_hash_ = start_hash;
    tree_ = start_tree;
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

Result<sqlite3_stmt*> AuditWriter::Statement(const char* sql) {
  auto it = claim_statements_.find(sql);
  if (it == claim_statements_.end()) {
    ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db_.get(), sql));
    it = claim_statements_.emplace(sql, std::move(stmt)).first;
  }
  sqlite3_reset(it->second.get());
  sqlite3_clear_bindings(it->second.get());
  return it->second.get();
}

namespace {

// Runs a statement that returns no rows, leaving it reset for the next use.
int StepOnce(sqlite3_stmt* stmt) {
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc;
}

}  // namespace

Result<AppendOutcome> AuditWriter::AppendOne(Pending& pending) {
  sqlite3* db = db_.get();
  AuditRecord& r = pending.record;
  const bool officer = r.kind == RecordKind::kOfficer;
  if (!officer) {
    // The authoritative retry check: it also sees this batch's own rows.
    sqlite3_stmt* find = find_.get();
    BindText(find, 1, r.caller);
    BindText(find, 2, r.request_id);
    std::optional<AuditRecord> earlier;
    if (sqlite3_step(find) == SQLITE_ROW) earlier = ReadRecord(find);
    sqlite3_reset(find);
    sqlite3_clear_bindings(find);
    if (earlier) {
      if (earlier->csr_sha256 != r.csr_sha256) return RequestIdReused(r.request_id);
      return AppendOutcome{std::move(*earlier), true};
    }
  }
  if (StepOnce(savepoint_.get()) != SQLITE_DONE) return StorageError(db, "SAVEPOINT");
  auto undo = [&](Error e) -> Result<AppendOutcome> {
    StepOnce(rollback_to_.get());
    StepOnce(release_.get());
    return e;
  };
  r.seq = head_seq_ + 1;
  r.time_unix_ms = NowUnixMs();
  if (officer) {
    Status effect = pending.effect ? pending.effect(db, r) : Status();
    if (!effect.ok()) return undo(effect.error());
  } else {
    auto authorization = CheckClaims([this](const char* sql) { return Statement(sql); }, db, pending.claims,
                                     r.time_unix_ms, r.seq);
    // No statement may stay mid-step: an open read would pin the WAL.
    for (auto& [sql, stmt] : claim_statements_) sqlite3_reset(stmt.get());
    if (!authorization.ok()) return undo(authorization.error());
    r.authorization = std::move(*authorization);
  }
  r.prev_hash = head_hash_;
  const std::string canonical = CanonicalRecord(r);
  r.record_hash = Hex(Sha256(canonical));
  const int rc = InsertRecord(r);
  if (rc != SQLITE_DONE) {
    // Only the serial can collide here (request ids and keys were checked above).
    if (rc == SQLITE_CONSTRAINT && !officer)
      return undo(MakeError(Code::kInternal, "SERIAL_COLLISION", "serial " + r.serial_hex + " was issued before; retry the request"));
    return undo(StorageError(db, "appending audit record"));
  }
  if (StepOnce(release_.get()) != SQLITE_DONE) return undo(StorageError(db, "RELEASE"));
  head_seq_ = r.seq;
  head_hash_ = r.record_hash;
  tree_.Append(LeafHash(canonical));
  return AppendOutcome{r, false};
}

int AuditWriter::InsertRecord(const AuditRecord& r) {
  const bool officer = r.kind == RecordKind::kOfficer;
  sqlite3_stmt* ins = officer ? insert_officer_.get() : insert_.get();
  sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(r.seq));
  sqlite3_bind_int64(ins, 2, r.time_unix_ms);
  int idx = 3;
  if (officer) {
    for (const std::string* field : {&r.request_id, &r.caller, &r.action, &r.profile, &r.device_id, &r.issuer_key_id,
                                     &r.detail})
      BindText(ins, idx++, *field);
  } else {
    for (const std::string* field : {&r.request_id, &r.caller, &r.device_id, &r.profile, &r.serial_hex,
                                     &r.certificate_id, &r.spki_sha256, &r.subject, &r.issuer_key_id, &r.csr_sha256,
                                     &r.thing_name, &r.thing_type, &r.thing_attributes, &r.authorization})
      BindText(ins, idx++, *field);
    sqlite3_bind_blob(ins, idx++, r.certificate_der.data(), static_cast<int>(r.certificate_der.size()), SQLITE_STATIC);
  }
  BindText(ins, idx++, r.prev_hash);
  BindText(ins, idx++, r.record_hash);
  return StepOnce(ins);
}

}  // namespace station::audit
