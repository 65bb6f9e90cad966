#include "station/store/pg_store.h"

#include <mutex>
#include <vector>

#include "station/store/pg_db.h"
#include "station/store/pg_registry.h"
#include "station/store/pg_reservation.h"
#include "station/store/record_sql.h"

namespace station::store {
namespace {

using pg::Params;
using pg::Rows;

// Rows a walk over the log reads at a time.
constexpr int kPageRows = 1000;
const std::string kPageLimit = " LIMIT " + std::to_string(kPageRows);

// One connection, made again when it broke: the database restarted or failed
// over, and the next use finds it back.
class Connection {
 public:
  Connection(const pg::Target& target, bool writer) : target_(target), writer_(writer) {}

  Result<PGconn*> Get() {
    if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return conn_.get();
    conn_.reset();
    ST_ASSIGN_OR_RETURN(pg::Conn conn, pg::Connect(target_, writer_));
    // One process writes a station's log: a second with the same station id
    // would fork its hash chain.
    if (writer_) ST_RETURN_IF_ERROR(pg::ClaimStation(conn.get(), target_.station_id));
    conn_ = std::move(conn);
    return conn_.get();
  }

 private:
  const pg::Target& target_;
  const bool writer_;
  pg::Conn conn_;
};

// Read connections shared by many threads: a thread leases one and hands it
// back, or drops it when it broke.
class ReadPool {
 public:
  explicit ReadPool(const pg::Target& target) : target_(target) {}

  class Lease {
   public:
    Lease(ReadPool* pool, pg::Conn conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK || PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) return;
      std::lock_guard<std::mutex> lock(pool_->mu_);
      pool_->idle_.push_back(std::move(conn_));
    }
    PGconn* get() const { return conn_.get(); }

   private:
    ReadPool* pool_;
    pg::Conn conn_;
  };

  Result<Lease> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        pg::Conn conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
    }
    ST_ASSIGN_OR_RETURN(pg::Conn conn, pg::Connect(target_, false));
    return Lease(this, std::move(conn));
  }

 private:
  const pg::Target& target_;
  std::mutex mu_;  // guards idle_
  std::vector<pg::Conn> idle_;
};

const std::string& RecordByRequestSql() {
  static const std::string sql = SelectRecordSql(RecordKind::kIssuance) + "WHERE caller = $1 AND request_id = $2";
  return sql;
}

// A line's request ids are its own, at whichever station it asked.
Result<std::optional<AuditRecord>> FindIssuanceByRequest(PGconn* c, const std::string& caller,
                                                         const std::string& request_id) {
  ST_ASSIGN_OR_RETURN(Rows rows, pg::Run(c, RecordByRequestSql(), Params(caller, request_id), "looking up a request"));
  if (PQntuples(rows.get()) == 0) return std::optional<AuditRecord>();
  return std::optional<AuditRecord>(pg::ReadRecord(rows.get(), 0, RecordKind::kIssuance));
}

bool LosesTransaction(const Error& e) {
  return e.fault == Fault::kStoreConflict || e.fault == Fault::kStoreUnreachable;
}

// One group commit: BEGIN ... COMMIT on the writer connection (READ
// COMMITTED; the reservation's locks order stations racing for one device).
class PgBatch final : public Batch {
 public:
  PgBatch(PGconn* c, const std::string& station) : c_(c), station_(station) {}
  ~PgBatch() override {
    if (!done_ && PQtransactionStatus(c_) != PQTRANS_IDLE) (void)pg::Execute(c_, "ROLLBACK", Params(), "ROLLBACK");
  }

  Result<std::optional<AuditRecord>> FindByRequest(const std::string& caller, const std::string& request_id) override {
    return Watch(FindIssuanceByRequest(c_, caller, request_id));
  }

  Result<std::string> Reserve(const policy::Reservation& reservation, int64_t now_unix_ms, uint64_t seq) override {
    pg::PgReservationRows rows(c_, station_, true);
    return Watch(CheckReservation(rows, reservation, now_unix_ms, seq));
  }

  Status Append(const AuditRecord& record) override {
    // Officer records of the fleet commit one at a time, in fleet_order.
    if (record.kind == RecordKind::kOfficer)
      ST_RETURN_IF_ERROR(Watch(pg::Execute(c_, "SELECT pg_advisory_xact_lock(hashtextextended('officer-order', 0))",
                                           Params(), "waiting for another station's officer record")));
    Rows rows = pg::Send(c_, pg::InsertRecordSql(record.kind), pg::RecordParams(station_, record));
    if (PQresultStatus(rows.get()) == PGRES_COMMAND_OK) return {};
    if (pg::SqlState(rows.get()) == "23505") {
      const std::string constraint = pg::Constraint(rows.get());
      if (constraint == "issuance_key_once")
        return MakeError(Code::kFailedPrecondition, "DUPLICATE_KEY",
                         "this public key was certified at the same moment by another station; every device must "
                         "generate its own key");
      if (constraint == "issuance_serial_hex_key")
        return MakeError(Code::kInternal, "SERIAL_COLLISION",
                         "serial " + record.serial_hex + " was issued before; retry the request");
      if (constraint == "issuance_caller_request_id_key")
        return MakeError(Code::kAborted, "REQUEST_IN_FLIGHT",
                         "request_id '" + record.request_id + "' is being answered by another station; retry it");
    }
    return Watch(pg::Failure(c_, rows.get(), "appending audit record"));
  }

  // One savepoint rolls along the batch: each step releases the one before
  // it and sets its own in one round trip, and COMMIT releases the last.
  Status Atomically(const std::function<Status()>& step) override {
    const char* set = savepoint_ ? "RELEASE SAVEPOINT record; SAVEPOINT record" : "SAVEPOINT record";
    ST_RETURN_IF_ERROR(Watch(pg::Script(c_, set, "setting a savepoint")));
    savepoint_ = true;
    Status status = step();
    if (!status.ok() && !lost()) (void)Watch(pg::Script(c_, "ROLLBACK TO SAVEPOINT record", "undoing a record"));
    return status;
  }

  // A conflict with another station or a broken connection loses the whole
  // transaction; so does anything that leaves it unusable.
  bool lost() const override {
    if (done_) return false;
    return lost_ || PQstatus(c_) != CONNECTION_OK || PQtransactionStatus(c_) == PQTRANS_IDLE;
  }

  Status Commit() override {
    if (lost()) {
      done_ = true;
      return lost_error_ ? *lost_error_
                         : MakeFault(Fault::kStoreUnreachable, Code::kUnavailable, "STORE_UNAVAILABLE",
                                     "the shared store dropped the batch's transaction; retry shortly");
    }
    auto committed = pg::Run(c_, "COMMIT", Params(), "committing audit records");
    done_ = true;
    if (!committed.ok()) return committed.error();
    // COMMIT of a transaction that failed answers ROLLBACK, not an error.
    if (std::string(PQcmdStatus(committed->get())) != "COMMIT")
      return MakeError(Code::kUnavailable, "AUDIT_UNAVAILABLE", "the shared store rolled the batch back");
    return {};
  }

  Status ReplaceCaSet(const std::string& issuer, const std::vector<CaRow>& rows, uint64_t seq) override {
    return Watch(pg::ReplaceCaSet(c_, station_, issuer, rows, seq));
  }
  Status SetProfileLines(const std::string& profile, const std::string& lines, uint64_t seq) override {
    return Watch(pg::SetProfileLines(c_, station_, profile, lines, seq));
  }
  Result<std::vector<std::string>> AddApproval(const std::string& action_key, const std::string& officer,
                                               int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) override {
    return Watch(pg::AddApproval(c_, station_, action_key, officer, now_unix_ms, ttl_s, seq));
  }
  Status UseApprovals(const std::string& action_key, int64_t now_unix_ms, uint64_t seq) override {
    return Watch(pg::UseApprovals(c_, station_, action_key, now_unix_ms, seq));
  }
  Status ImportLot(const LotRow& lot, const std::string& upload_id, int64_t now_unix_ms) override {
    return Watch(pg::ImportLot(c_, station_, lot, upload_id, now_unix_ms));
  }
  Result<std::string> CloseLot(const std::string& name) override { return Watch(pg::CloseLot(c_, name)); }
  Status AddCodes(const std::string& profile, const std::string& batch, const std::vector<CodeRow>& codes) override {
    return Watch(pg::AddCodes(c_, profile, batch, codes));
  }
  Status AddReissueApproval(const std::string& profile, const std::string& device_id, const std::string& approved_by,
                            int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) override {
    return Watch(pg::AddReissueApproval(c_, station_, profile, device_id, approved_by, now_unix_ms, ttl_s, seq));
  }
  Result<std::string> GroupDigest(StateTable table, const std::string& group) override {
    return Watch(pg::GroupDigest(c_, station_, table, group));
  }

 private:
  // Notes an error that lost the whole transaction, and passes it on.
  template <typename R>
  R Watch(R result) {
    if (!result.ok() && LosesTransaction(result.error()) && !lost_) {
      lost_ = true;
      lost_error_ = result.error();
      (void)pg::Execute(c_, "ROLLBACK", Params(), "ROLLBACK");
    }
    return result;
  }
  Status Watch(Error e) { return Watch(Status(std::move(e))); }

  PGconn* c_;
  const std::string& station_;
  bool savepoint_ = false;  // one is set
  bool done_ = false;
  bool lost_ = false;
  std::optional<Error> lost_error_;
};

// Records of one kind of this station's log, a page at a time.
class RecordPages {
 public:
  RecordPages(PGconn* c, const std::string& station, RecordKind kind, uint64_t after_seq)
      : c_(c), station_(station), kind_(kind), after_(after_seq) {}

  // The next record, or nullopt at the end.
  Result<std::optional<AuditRecord>> Next() {
    if (row_ >= PQntuples(page_.get())) {
      if (page_ && PQntuples(page_.get()) < kPageRows) return std::optional<AuditRecord>();
      static const std::string issuance = SelectRecordSql(RecordKind::kIssuance) +
                                          "WHERE station_id = $1 AND seq > $2 ORDER BY seq" + kPageLimit;
      static const std::string officer = SelectRecordSql(RecordKind::kOfficer) +
                                         "WHERE station_id = $1 AND seq > $2 ORDER BY seq" + kPageLimit;
      ST_ASSIGN_OR_RETURN(page_, pg::Run(c_, kind_ == RecordKind::kOfficer ? officer : issuance,
                                         Params(station_, after_), "reading the audit log"));
      row_ = 0;
      if (PQntuples(page_.get()) == 0) return std::optional<AuditRecord>();
    }
    AuditRecord r = pg::ReadRecord(page_.get(), row_++, kind_);
    after_ = r.seq;
    return std::optional<AuditRecord>(std::move(r));
  }

 private:
  PGconn* c_;
  const std::string& station_;
  RecordKind kind_;
  uint64_t after_;
  Rows page_;
  int row_ = 0;
};

class PgStore final : public Store {
 public:
  explicit PgStore(PostgresOptions options)
      : options_(std::move(options)),
        target_{options_.url, options_.password_file, options_.station_id, options_.durable},
        writer_(target_, true),
        staging_(target_, false),
        pool_(target_) {}

  Status Open() {
    if (!options_.read_write) {
      ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());  // reachable, and of this schema
      return {};
    }
    ST_RETURN_IF_ERROR(writer_.Get());  // reachable, of this schema, and the station id ours
    return {};
  }

  Result<std::unique_ptr<Batch>> Begin() override {
    if (!options_.read_write) return ReadOnlyStore("appending to the audit log");
    ST_ASSIGN_OR_RETURN(PGconn * c, writer_.Get());
    ST_RETURN_IF_ERROR(pg::Execute(c, "BEGIN", Params(), "BEGIN"));
    return std::unique_ptr<Batch>(new PgBatch(c, options_.station_id));
  }

  Status AddCheckpoint(const StoredCheckpoint& cp) override {
    if (!options_.read_write) return ReadOnlyStore("storing a checkpoint");
    ST_ASSIGN_OR_RETURN(PGconn * c, writer_.Get());
    Params params(options_.station_id, cp.size, cp.time_unix_ms, cp.note);
    params.Add(Bytes(cp.tree_edge.begin(), cp.tree_edge.end()));
    return pg::Execute(c,
                       "INSERT INTO checkpoint (station_id, size, time_unix_ms, note, tree_edge) "
                       "VALUES ($1, $2, $3, $4, $5)",
                       params, "storing a checkpoint");
  }

  Status StageLotIds(const std::string& upload_id, const std::vector<std::string>& ids) override {
    if (!options_.read_write) return ReadOnlyStore("staging a lot");
    std::lock_guard<std::mutex> lock(staging_mu_);
    ST_ASSIGN_OR_RETURN(PGconn * c, staging_.Get());
    return pg::StageLotIds(c, options_.station_id, upload_id, ids);
  }

  Status DropLotUpload(const std::string& upload_id) override {
    if (!options_.read_write) return ReadOnlyStore("staging a lot");
    std::lock_guard<std::mutex> lock(staging_mu_);
    ST_ASSIGN_OR_RETURN(PGconn * c, staging_.Get());
    return pg::DropLotUpload(c, options_.station_id, upload_id);
  }

  Result<std::optional<AuditRecord>> FindByRequest(const std::string& caller, const std::string& request_id) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return FindIssuanceByRequest(lease.get(), caller, request_id);
  }

  Result<std::string> CheckReservation(const policy::Reservation& reservation, int64_t now_unix_ms) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    pg::PgReservationRows rows(lease.get(), options_.station_id, false);
    return store::CheckReservation(rows, reservation, now_unix_ms, 0);
  }

  // One round trip, unless it finds a retry (then a second fetches its record).
  Result<Look> LookBeforeSigning(const std::string& caller, const std::string& request_id,
                                 const policy::Reservation& reservation, int64_t now_unix_ms) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    pg::PgReservationRows rows(lease.get(), options_.station_id, false);
    rows.AlsoFindRequest(caller, request_id);
    Look look;
    look.authorization = store::CheckReservation(rows, reservation, now_unix_ms, 0);
    if (rows.request_found()) {
      ST_ASSIGN_OR_RETURN(look.earlier, FindIssuanceByRequest(lease.get(), caller, request_id));
    }
    return look;
  }

  // Both tables of this station's log in seq order, merged.
  Status ForEachRecord(uint64_t after_seq, const std::function<bool(const AuditRecord&)>& fn) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    RecordPages issuance(lease.get(), options_.station_id, RecordKind::kIssuance, after_seq);
    RecordPages officer(lease.get(), options_.station_id, RecordKind::kOfficer, after_seq);
    ST_ASSIGN_OR_RETURN(std::optional<AuditRecord> next_issuance, issuance.Next());
    ST_ASSIGN_OR_RETURN(std::optional<AuditRecord> next_officer, officer.Next());
    while (next_issuance || next_officer) {
      const bool take_officer = next_officer && (!next_issuance || next_officer->seq < next_issuance->seq);
      if (!fn(take_officer ? *next_officer : *next_issuance)) return {};
      if (take_officer) {
        ST_ASSIGN_OR_RETURN(next_officer, officer.Next());
      } else {
        ST_ASSIGN_OR_RETURN(next_issuance, issuance.Next());
      }
    }
    return {};
  }

  // Every station's, in the order they committed.
  Status ForEachOfficerRecord(const std::function<void(const AuditRecord&, bool own)>& fn) override {
    static const std::string sql = [] {
      std::string select = SelectRecordSql(RecordKind::kOfficer);
      select.replace(select.find(" FROM "), 6, ", station_id, fleet_order FROM ");
      return select + "WHERE fleet_order > $1 ORDER BY fleet_order" + kPageLimit;
    }();
    const int fields = static_cast<int>(RecordFields(RecordKind::kOfficer).size());
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    int64_t after = 0;
    for (;;) {
      ST_ASSIGN_OR_RETURN(Rows page, pg::Run(lease.get(), sql, Params(after), "reading the fleet's officer records"));
      for (int i = 0; i < PQntuples(page.get()); ++i) {
        fn(pg::ReadRecord(page.get(), i, RecordKind::kOfficer), pg::Text(page.get(), i, fields) == options_.station_id);
        after = pg::Int(page.get(), i, fields + 1);
      }
      if (PQntuples(page.get()) < kPageRows) return {};
    }
  }

  Result<std::vector<std::string>> Stations() override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(Rows rows, pg::Run(lease.get(),
                                           "SELECT station_id FROM issuance UNION SELECT station_id "
                                           "FROM officer_action UNION SELECT station_id FROM checkpoint ORDER BY 1",
                                           Params(), "listing the store's stations"));
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(rows.get()); ++i) out.push_back(pg::Text(rows.get(), i, 0));
    return out;
  }

  Result<RecordCount> CountRecords() override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(Rows rows, pg::Run(lease.get(),
                                           "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM (SELECT seq FROM issuance "
                                           "WHERE station_id = $1 UNION ALL SELECT seq FROM officer_action "
                                           "WHERE station_id = $1) t",
                                           Params(options_.station_id), "counting the audit log's records"));
    return RecordCount{static_cast<uint64_t>(pg::Int(rows.get(), 0, 0)),
                       static_cast<uint64_t>(pg::Int(rows.get(), 0, 1))};
  }

  // Officer records commit in fleet_order (Append holds the fleet's officer
  // lock from the insert that numbers one to its commit).
  Result<uint64_t> OfficerVersion() override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(Rows rows, pg::Run(lease.get(), "SELECT COALESCE(MAX(fleet_order), 0) FROM officer_action",
                                           Params(), "reading the fleet's officer records"));
    return static_cast<uint64_t>(pg::Int(rows.get(), 0, 0));
  }

  Result<std::optional<uint64_t>> FindSeqByHash(const std::string& hash) override {
    return FirstSeq("SELECT seq FROM issuance WHERE station_id = $1 AND record_hash = $2 UNION ALL "
                    "SELECT seq FROM officer_action WHERE station_id = $1 AND record_hash = $2 LIMIT 1",
                    hash, "searching the audit log");
  }

  Result<std::optional<uint64_t>> FindSeqBySerial(const std::string& serial_hex) override {
    return FirstSeq("SELECT seq FROM issuance WHERE station_id = $1 AND serial_hex = $2", serial_hex,
                    "looking up a serial");
  }

  Result<std::vector<StoredCheckpoint>> Checkpoints(bool latest_only) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(Rows rows, pg::Run(lease.get(),
                                           latest_only ? "SELECT size, time_unix_ms, note, tree_edge FROM checkpoint "
                                                         "WHERE station_id = $1 ORDER BY size DESC LIMIT 1"
                                                       : "SELECT size, time_unix_ms, note, tree_edge FROM checkpoint "
                                                         "WHERE station_id = $1 ORDER BY size",
                                           Params(options_.station_id), "reading checkpoints"));
    std::vector<StoredCheckpoint> out;
    for (int i = 0; i < PQntuples(rows.get()); ++i) {
      const Bytes edge = pg::ByteaBytes(rows.get(), i, 3);
      out.push_back(StoredCheckpoint{static_cast<uint64_t>(pg::Int(rows.get(), i, 0)), pg::Int(rows.get(), i, 1),
                                     pg::Text(rows.get(), i, 2), std::string(edge.begin(), edge.end())});
    }
    return out;
  }

  Result<std::vector<CaRow>> CaSets() override { return OnReader(pg::CaSets); }
  Result<std::map<std::string, std::string>> ProfileLines() override { return OnReader(pg::ProfileLines); }
  Result<std::vector<LotSummary>> Lots() override { return OnReader(pg::Lots); }
  Result<std::map<std::string, uint64_t>> UnusedCodes(int64_t now_unix_ms) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return pg::UnusedCodes(lease.get(), now_unix_ms);
  }
  Result<std::optional<StateProblem>> CheckUses() override { return OnReader(pg::CheckUses); }

  Result<std::set<std::string>> Groups(StateTable table) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return pg::Groups(lease.get(), options_.station_id, table);
  }
  Result<std::string> GroupDigest(StateTable table, const std::string& group) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return pg::GroupDigest(lease.get(), options_.station_id, table, group);
  }

 private:
  template <typename Fn>
  auto OnReader(Fn fn) -> decltype(fn(nullptr)) {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    return fn(lease.get());
  }

  Result<std::optional<uint64_t>> FirstSeq(const char* sql, const std::string& value, const char* doing) {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    ST_ASSIGN_OR_RETURN(Rows rows, pg::Run(lease.get(), sql, Params(options_.station_id, value), doing));
    if (PQntuples(rows.get()) == 0) return std::optional<uint64_t>();
    return std::optional<uint64_t>(static_cast<uint64_t>(pg::Int(rows.get(), 0, 0)));
  }

  const PostgresOptions options_;
  const pg::Target target_;
  Connection writer_;  // the audit writer's thread only
  std::mutex staging_mu_;
  Connection staging_;  // guarded by staging_mu_
  ReadPool pool_;
};

}  // namespace

Result<std::shared_ptr<Store>> OpenPostgresStore(PostgresOptions options) {
  if (options.station_id.empty())
    return MakeError(Code::kFailedPrecondition, "CONFIG_INVALID", "a station on a shared store needs a station_id");
  auto store = std::make_shared<PgStore>(std::move(options));
  ST_RETURN_IF_ERROR(store->Open());
  return std::shared_ptr<Store>(std::move(store));
}

}  // namespace station::store
