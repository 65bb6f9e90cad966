#include "station/store/pg_store.h"

#include <mutex>
#include <utility>
#include <vector>

#include "station/store/pg_batch.h"
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
    const bool careful = std::exchange(collided_, false);
    return std::unique_ptr<Batch>(new pg::PgBatch(c, options_.station_id, careful, &collided_));
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
    return pg::FindIssuanceByRequest(lease.get(), caller, request_id);
  }

  Result<std::string> CheckReservation(const policy::Reservation& reservation, int64_t now_unix_ms) override {
    ST_ASSIGN_OR_RETURN(auto lease, pool_.Take());
    pg::PgReservationRows rows(lease.get(), options_.station_id, false);
    return store::CheckReservation(rows, reservation, now_unix_ms, 0);
  }

  // One round trip for them all, unless one needs more: a retry's record,
  // a lot, a code or a reissue approval.
  std::vector<Result<Look>> LookBeforeSigning(const std::vector<IssuanceAsked>& requests,
                                              int64_t now_unix_ms) override {
    auto lease = pool_.Take();
    if (!lease.ok()) return std::vector<Result<Look>>(requests.size(), lease.error());
    auto looked = pg::LookUpIssuances(lease->get(), options_.station_id, requests, false);
    if (!looked.ok()) return std::vector<Result<Look>>(requests.size(), looked.error());
    std::vector<Result<Look>> out;
    for (size_t i = 0; i < requests.size(); ++i) {
      const IssuanceAsked& r = requests[i];
      Look look;
      if ((*looked)[i].request_found) {
        auto earlier = pg::FindIssuanceByRequest(lease->get(), r.caller, r.request_id);
        if (!earlier.ok()) {
          out.push_back(earlier.error());
          continue;
        }
        look.earlier = std::move(*earlier);
      }
      pg::PgReservationRows rows(lease->get(), options_.station_id, false);
      rows.Know((*looked)[i]);
      if (!look.earlier) look.authorization = store::CheckReservation(rows, r.reservation, now_unix_ms, 0);
      out.push_back(std::move(look));
    }
    return out;
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
  Connection writer_;     // the audit writer's thread only
  bool collided_ = false;  // the last batch met a collision at commit (pg_batch.h); writer's thread only
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
