#include "station/audit/writer.h"

#include <chrono>
#include <optional>

namespace station::audit {
namespace {

int64_t NowUnixMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void BindText(sqlite3_stmt* stmt, int idx, const std::string& s) {
  sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

}  // namespace

Error RequestIdReused(const std::string& request_id) {
  return MakeError(Code::kFailedPrecondition, "REQUEST_ID_REUSED",
                   "request_id '" + request_id + "' was already used by this line for a different CSR; use a new request_id");
}

Result<std::unique_ptr<AuditWriter>> AuditWriter::Open(const std::string& path, size_t max_batch) {
  ST_ASSIGN_OR_RETURN(Db db, OpenDb(path, true));
  std::unique_ptr<AuditWriter> w(new AuditWriter(std::move(db)));
  w->max_batch_ = max_batch == 0 ? 1 : max_batch;
  sqlite3* raw = w->db_.get();
  ST_ASSIGN_OR_RETURN(w->insert_, Prepare(raw, "INSERT INTO issuance (seq, time_unix_ms, request_id, caller, "
                                               "device_id, profile, serial_hex, certificate_id, spki_sha256, subject, "
                                               "issuer_key_id, csr_sha256, certificate_der, prev_hash, record_hash) "
                                               "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"));
  ST_ASSIGN_OR_RETURN(w->find_, Prepare(raw, FindByRequestSql().c_str()));
  ST_ASSIGN_OR_RETURN(w->begin_, Prepare(raw, "BEGIN IMMEDIATE"));
  ST_ASSIGN_OR_RETURN(w->commit_, Prepare(raw, "COMMIT"));
  ST_ASSIGN_OR_RETURN(w->rollback_, Prepare(raw, "ROLLBACK"));
  ST_ASSIGN_OR_RETURN(Stmt head, Prepare(raw, "SELECT seq, record_hash FROM issuance ORDER BY seq DESC LIMIT 1"));
  w->head_hash_ = kGenesisHash;
  if (sqlite3_step(head.get()) == SQLITE_ROW) {
    w->head_seq_ = static_cast<uint64_t>(sqlite3_column_int64(head.get(), 0));
    w->head_hash_ = reinterpret_cast<const char*>(sqlite3_column_text(head.get(), 1));
  }
  w->committed_seq_ = w->head_seq_;
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

AuditWriter::~AuditWriter() { Stop(); }

void AuditWriter::Append(AuditRecord draft, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(draft), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(MakeError(Code::kUnavailable, "SHUTTING_DOWN", "the station is shutting down; retry on another station or later"));
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

void AuditWriter::Run() {
  for (;;) {
    std::deque<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
  }
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
  std::vector<bool> inserted(batch.size(), false);
  for (size_t i = 0; i < batch.size(); ++i) {
    AuditRecord& r = batch[i].record;
    // The authoritative retry check: it also sees this batch's own rows.
    sqlite3_stmt* find = find_.get();
    BindText(find, 1, r.caller);
    BindText(find, 2, r.request_id);
    int rc = sqlite3_step(find);
    std::optional<AuditRecord> earlier;
    if (rc == SQLITE_ROW) earlier = ReadRecord(find);
    sqlite3_reset(find);
    sqlite3_clear_bindings(find);
    if (earlier) {
      if (earlier->csr_sha256 == r.csr_sha256) {
        outcomes.emplace_back(AppendOutcome{std::move(*earlier), true});
      } else {
        outcomes.emplace_back(RequestIdReused(r.request_id));
      }
      continue;
    }
    r.seq = head_seq_ + 1;
    r.time_unix_ms = NowUnixMs();
    r.prev_hash = head_hash_;
    r.record_hash = ComputeRecordHash(r);
    sqlite3_stmt* ins = insert_.get();
    sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(r.seq));
    sqlite3_bind_int64(ins, 2, r.time_unix_ms);
    BindText(ins, 3, r.request_id);
    BindText(ins, 4, r.caller);
    BindText(ins, 5, r.device_id);
    BindText(ins, 6, r.profile);
    BindText(ins, 7, r.serial_hex);
    BindText(ins, 8, r.certificate_id);
    BindText(ins, 9, r.spki_sha256);
    BindText(ins, 10, r.subject);
    BindText(ins, 11, r.issuer_key_id);
    BindText(ins, 12, r.csr_sha256);
    sqlite3_bind_blob(ins, 13, r.certificate_der.data(), static_cast<int>(r.certificate_der.size()), SQLITE_STATIC);
    BindText(ins, 14, r.prev_hash);
    BindText(ins, 15, r.record_hash);
    rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_clear_bindings(ins);
    if (rc == SQLITE_DONE) {
      head_seq_ = r.seq;
      head_hash_ = r.record_hash;
      inserted[i] = true;
      outcomes.emplace_back(AppendOutcome{r, false});
    } else if (rc == SQLITE_CONSTRAINT) {
      // Only the serial can collide here (request ids were checked above).
      outcomes.emplace_back(MakeError(Code::kInternal, "SERIAL_COLLISION",
                                      "serial " + r.serial_hex + " was issued before; retry the request"));
    } else {
      outcomes.emplace_back(StorageError(db, "appending audit record"));
    }
  }
  int rc = sqlite3_step(commit_.get());
  sqlite3_reset(commit_.get());
  if (rc != SQLITE_DONE) {
    Error e = StorageError(db, "committing audit records");
    sqlite3_step(rollback_.get());
    sqlite3_reset(rollback_.get());
    head_seq_ = start_seq;
    head_hash_ = start_hash;
    for (size_t i = 0; i < batch.size(); ++i)
      if (inserted[i]) outcomes[i] = e;
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    committed_seq_ = head_seq_;
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(outcomes[i]));
}

}  // namespace station::audit
