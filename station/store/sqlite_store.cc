#include "station/store/sqlite_store.h"

#include <mutex>

#include "station/store/sqlite_db.h"
#include "station/store/sqlite_registry.h"
#include "station/store/sqlite_reservation.h"
#include "station/store/sqlite_state.h"

namespace station::store {
namespace {

const char* RecordsAfterSql(RecordKind kind) {
  static const std::string issuance = SelectRecordSql(RecordKind::kIssuance) + "WHERE seq > ?1 ORDER BY seq";
  static const std::string officer = SelectRecordSql(RecordKind::kOfficer) + "WHERE seq > ?1 ORDER BY seq";
  return kind == RecordKind::kOfficer ? officer.c_str() : issuance.c_str();
}

// One group commit on the writer connection: BEGIN IMMEDIATE ... COMMIT.
class SqliteBatch final : public Batch {
 public:
  SqliteBatch(sqlite3* db, StatementCache& statements) : db_(db), statements_(statements) {}
  ~SqliteBatch() override {
    if (!done_ && !sqlite3_get_autocommit(db_)) (void)Exec(db_, "ROLLBACK");
  }

  Result<std::optional<AuditRecord>> FindByRequest(const std::string& caller, const std::string& request_id) override {
    return FindIssuanceByRequest(db_, statements_, caller, request_id);
  }

  Result<std::string> Reserve(const policy::Reservation& reservation, int64_t now_unix_ms, uint64_t seq) override {
    sqlite::SqliteReservationRows rows(db_, statements_);
    return store::CheckReservation(rows, reservation, now_unix_ms, seq);
  }

  Status Append(const AuditRecord& record) override {
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* insert, statements_.Get(InsertRecordSql(record.kind).c_str()));
    BindRecord(insert, record);
    const int rc = StepOnce(insert);
    if (rc == SQLITE_DONE) return {};
    // Only the serial can collide here (request ids and keys were checked before).
    if (rc == SQLITE_CONSTRAINT && record.kind == RecordKind::kIssuance)
      return MakeError(Code::kInternal, "SERIAL_COLLISION",
                       "serial " + record.serial_hex + " was issued before; retry the request");
    return StorageError(db_, "appending audit record");
  }

  Status Atomically(const std::function<Status()>& step) override {
    ST_RETURN_IF_ERROR(Statement("SAVEPOINT record", "SAVEPOINT"));
    Status status = step();
    if (status.ok()) status = Statement("RELEASE record", "RELEASE");
    if (!status.ok() && !lost()) {
      (void)Statement("ROLLBACK TO record", "ROLLBACK TO");
      (void)Statement("RELEASE record", "RELEASE");
    }
    return status;
  }

  // On a full disk or an I/O error SQLite may roll the whole transaction back
  // by itself: then the connection is back in autocommit mode.
  bool lost() const override { return !done_ && sqlite3_get_autocommit(db_); }

  Status Commit() override {
    if (lost()) {
      done_ = true;
      return StorageError(db_, "appending audit records");
    }
    Status committed = Statement("COMMIT", "committing audit records");
    done_ = true;
    if (!committed.ok() && !sqlite3_get_autocommit(db_)) (void)Exec(db_, "ROLLBACK");
    return committed;
  }

  Status ReplaceCaSet(const std::string& issuer, const std::vector<CaRow>& rows, uint64_t seq) override {
    return sqlite::ReplaceCaSet(db_, issuer, rows, seq);
  }
  Status SetProfileLines(const std::string& profile, const std::string& lines, uint64_t seq) override {
    return sqlite::SetProfileLines(db_, profile, lines, seq);
  }
  Result<std::vector<std::string>> AddApproval(const std::string& action_key, const std::string& officer,
                                               int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) override {
    return sqlite::AddApproval(db_, action_key, officer, now_unix_ms, ttl_s, seq);
  }
  Status UseApprovals(const std::string& action_key, int64_t now_unix_ms, uint64_t seq) override {
    return sqlite::UseApprovals(db_, action_key, now_unix_ms, seq);
  }
  Status ImportLot(const LotRow& lot, const std::string& upload_id, int64_t now_unix_ms) override {
    return sqlite::ImportLot(db_, lot, upload_id, now_unix_ms);
  }
  Result<std::string> CloseLot(const std::string& name) override { return sqlite::CloseLot(db_, name); }
  Status AddCodes(const std::string& profile, const std::string& batch, const std::vector<CodeRow>& codes) override {
    return sqlite::AddCodes(db_, profile, batch, codes);
  }
  Status AddReissueApproval(const std::string& profile, const std::string& device_id, const std::string& approved_by,
                            int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) override {
    return sqlite::AddReissueApproval(db_, profile, device_id, approved_by, now_unix_ms, ttl_s, seq);
  }
  Result<std::string> GroupDigest(StateTable table, const std::string& group) override {
    return sqlite::GroupDigest(db_, table, group);
  }

 private:
  Status Statement(const char* sql, const char* doing) {
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, statements_.Get(sql));
    if (StepOnce(stmt) != SQLITE_DONE) return StorageError(db_, doing);
    return {};
  }

  sqlite3* db_;
  StatementCache& statements_;
  bool done_ = false;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, Db writer) : path_(std::move(path)), writer_(std::move(writer)), pool_(path_),
                                             writer_statements_(writer_.get()) {}

  Result<std::unique_ptr<Batch>> Begin() override {
    if (!writer_) return ReadOnlyStore("appending to the audit log");
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* begin, writer_statements_.Get("BEGIN IMMEDIATE"));
    if (StepOnce(begin) != SQLITE_DONE) return StorageError(writer_.get(), "BEGIN");
    return std::unique_ptr<Batch>(new SqliteBatch(writer_.get(), writer_statements_));
  }

  Status AddCheckpoint(const StoredCheckpoint& c) override {
    if (!writer_) return ReadOnlyStore("storing a checkpoint");
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* insert, writer_statements_.Get(
        "INSERT INTO checkpoint (size, time_unix_ms, note, tree_edge) VALUES (?1, ?2, ?3, ?4)"));
    Bind(insert, c.size, c.time_unix_ms, c.note);
    sqlite3_bind_blob(insert, 4, c.tree_edge.data(), static_cast<int>(c.tree_edge.size()), SQLITE_STATIC);
    if (StepOnce(insert) != SQLITE_DONE) return StorageError(writer_.get(), "storing a checkpoint");
    return {};
  }

  Status StageLotIds(const std::string& upload_id, const std::vector<std::string>& ids) override {
    std::lock_guard<std::mutex> lock(staging_mu_);
    ST_ASSIGN_OR_RETURN(sqlite3* db, StagingDb());
    return sqlite::StageLotIds(db, upload_id, ids);
  }

  Status DropLotUpload(const std::string& upload_id) override {
    std::lock_guard<std::mutex> lock(staging_mu_);
    ST_ASSIGN_OR_RETURN(sqlite3* db, StagingDb());
    return sqlite::DropLotUpload(db, upload_id);
  }

  Result<std::optional<AuditRecord>> FindByRequest(const std::string& caller, const std::string& request_id) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return FindIssuanceByRequest(lease.db(), lease.statements(), caller, request_id);
  }

  Result<std::string> CheckReservation(const policy::Reservation& reservation, int64_t now_unix_ms) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    sqlite::SqliteReservationRows rows(lease.db(), lease.statements());
    return store::CheckReservation(rows, reservation, now_unix_ms, 0);
  }

  // Both tables in seq order, merged.
  Status ForEachRecord(uint64_t after_seq, const std::function<bool(const AuditRecord&)>& fn) override {
    ST_ASSIGN_OR_RETURN(Db db, OpenDb(path_, false));
    ST_ASSIGN_OR_RETURN(Stmt issuance, Prepare(db.get(), RecordsAfterSql(RecordKind::kIssuance)));
    ST_ASSIGN_OR_RETURN(Stmt officer, Prepare(db.get(), RecordsAfterSql(RecordKind::kOfficer)));
    Bind(issuance.get(), after_seq);
    Bind(officer.get(), after_seq);
    int rc_issuance = sqlite3_step(issuance.get());
    int rc_officer = sqlite3_step(officer.get());
    auto readable = [](int rc) { return rc == SQLITE_ROW || rc == SQLITE_DONE; };
    // An error on either side ends the walk: a verifier must see an I/O
    // error, never records missing from one table.
    while (readable(rc_issuance) && readable(rc_officer) && (rc_issuance == SQLITE_ROW || rc_officer == SQLITE_ROW)) {
      const bool take_officer = rc_officer == SQLITE_ROW &&
                                (rc_issuance != SQLITE_ROW ||
                                 sqlite3_column_int64(officer.get(), 0) < sqlite3_column_int64(issuance.get(), 0));
      sqlite3_stmt* from = take_officer ? officer.get() : issuance.get();
      if (!fn(ReadRecord(from, take_officer ? RecordKind::kOfficer : RecordKind::kIssuance))) return {};
      (take_officer ? rc_officer : rc_issuance) = sqlite3_step(from);
    }
    if (rc_issuance != SQLITE_DONE || rc_officer != SQLITE_DONE) return StorageError(db.get(), "reading the audit log");
    return {};
  }

  Status ForEachOfficerRecord(const std::function<void(const AuditRecord&, bool own)>& fn) override {
    return ForEachRecordOf(RecordKind::kOfficer, [&fn](const AuditRecord& r) { fn(r, true); });
  }

  Result<std::vector<std::string>> Stations() override { return std::vector<std::string>{""}; }

  Result<RecordCount> CountRecords() override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* count,
                        lease.Statement("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM (SELECT seq FROM issuance "
                                        "UNION ALL SELECT seq FROM officer_action)"));
    if (sqlite3_step(count) != SQLITE_ROW) return StorageError(lease.db(), "counting the audit log's records");
    return RecordCount{static_cast<uint64_t>(sqlite3_column_int64(count, 0)),
                       static_cast<uint64_t>(sqlite3_column_int64(count, 1))};
  }

  Result<uint64_t> OfficerVersion() override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* highest, lease.Statement("SELECT COALESCE(MAX(seq), 0) FROM officer_action"));
    if (sqlite3_step(highest) != SQLITE_ROW) return StorageError(lease.db(), "reading the officer records");
    return static_cast<uint64_t>(sqlite3_column_int64(highest, 0));
  }

  Result<std::optional<uint64_t>> FindSeqByHash(const std::string& hash) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* find, lease.Statement("SELECT seq FROM issuance WHERE record_hash = ?1 UNION ALL "
                                                            "SELECT seq FROM officer_action WHERE record_hash = ?1 "
                                                            "LIMIT 1"));
    Bind(find, hash);
    const int rc = sqlite3_step(find);
    if (rc == SQLITE_ROW) return std::optional<uint64_t>(static_cast<uint64_t>(sqlite3_column_int64(find, 0)));
    if (rc != SQLITE_DONE) return StorageError(lease.db(), "searching the audit log");
    return std::optional<uint64_t>();
  }

  Result<std::optional<uint64_t>> FindSeqBySerial(const std::string& serial_hex) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* find, lease.Statement("SELECT seq FROM issuance WHERE serial_hex = ?1"));
    Bind(find, serial_hex);
    const int rc = sqlite3_step(find);
    if (rc == SQLITE_ROW) return std::optional<uint64_t>(static_cast<uint64_t>(sqlite3_column_int64(find, 0)));
    if (rc != SQLITE_DONE) return StorageError(lease.db(), "looking up a serial");
    return std::optional<uint64_t>();
  }

  Result<std::vector<StoredCheckpoint>> Checkpoints(bool latest_only) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(sqlite3_stmt* stmt,
                        lease.Statement(latest_only ? "SELECT size, time_unix_ms, note, tree_edge FROM checkpoint "
                                                      "ORDER BY size DESC LIMIT 1"
                                                    : "SELECT size, time_unix_ms, note, tree_edge FROM checkpoint "
                                                      "ORDER BY size"));
    std::vector<StoredCheckpoint> out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      StoredCheckpoint c;
      c.size = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
      c.time_unix_ms = sqlite3_column_int64(stmt, 1);
      c.note = ColumnText(stmt, 2);
      const auto* edge = static_cast<const char*>(sqlite3_column_blob(stmt, 3));
      c.tree_edge.assign(edge ? edge : "", static_cast<size_t>(sqlite3_column_bytes(stmt, 3)));
      out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return StorageError(lease.db(), "reading checkpoints");
    return out;
  }

  Result<std::vector<CaRow>> CaSets() override { return OnReader(sqlite::CaSets); }
  Result<std::map<std::string, std::string>> ProfileLines() override { return OnReader(sqlite::ProfileLines); }
  Result<std::vector<LotSummary>> Lots() override { return OnReader(sqlite::Lots); }
  Result<std::map<std::string, uint64_t>> UnusedCodes(int64_t now_unix_ms) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return sqlite::UnusedCodes(lease.db(), now_unix_ms);
  }
  Result<std::optional<StateProblem>> CheckUses() override { return OnReader(sqlite::CheckUses); }

  Result<std::set<std::string>> Groups(StateTable table) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return sqlite::Groups(lease.db(), table);
  }
  Result<std::string> GroupDigest(StateTable table, const std::string& group) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return sqlite::GroupDigest(lease.db(), table, group);
  }

 private:
  template <typename Fn>
  auto OnReader(Fn fn) -> decltype(fn(nullptr)) {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return fn(lease.db());
  }

  Status ForEachRecordOf(RecordKind kind, const std::function<void(const AuditRecord&)>& fn) {
    ST_ASSIGN_OR_RETURN(Db db, OpenDb(path_, false));
    ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db.get(), RecordsAfterSql(kind)));
    Bind(stmt.get(), 0);
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) fn(ReadRecord(stmt.get(), kind));
    if (rc != SQLITE_DONE) return StorageError(db.get(), "reading the audit log");
    return {};
  }

  // Staging has a connection of its own: it does not wait for the audit writer's queue.
  Result<sqlite3*> StagingDb() {
    if (!writer_) return ReadOnlyStore("staging a lot");
    if (!staging_) {
      ST_ASSIGN_OR_RETURN(staging_, OpenDb(path_, true));
    }
    return staging_.get();
  }

  const std::string path_;
  Db writer_;  // null when read-only; the audit writer's thread only
  ReadPool pool_;
  StatementCache writer_statements_;
  std::mutex staging_mu_;
  Db staging_;  // guarded by staging_mu_
};

}  // namespace

Result<std::shared_ptr<Store>> OpenSqliteStore(const std::string& path, SqliteOptions options) {
  Db writer;
  if (options.read_write) {
    ST_ASSIGN_OR_RETURN(writer, OpenDb(path, true));
    if (!options.durable) ST_RETURN_IF_ERROR(Exec(writer.get(), "PRAGMA synchronous=OFF"));
  } else {
    ST_ASSIGN_OR_RETURN(Db probe, OpenDb(path, false));  // the file and its schema, checked now
  }
  return std::shared_ptr<Store>(new SqliteStore(path, std::move(writer)));
}

}  // namespace station::store
