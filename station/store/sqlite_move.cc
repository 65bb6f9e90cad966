#include "station/store/sqlite_move.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "station/store/pg_db.h"
#include "station/store/pg_registry.h"
#include "station/store/record_sql.h"
#include "station/store/sqlite_db.h"
#include "station/store/sqlite_state.h"

namespace station::store {
namespace {

// A registry table's rows as they move: read from SQLite in the order the
// insert takes them; the insert's $1 is the station when `per_station`.
struct TableCopy {
  const char* table;
  bool per_station;
  const char* select;
  const char* insert;
};

// The record a use mark names is the moving station's.
#define USED_BY(n) "CASE WHEN $" #n "::BIGINT IS NULL THEN NULL ELSE $1 END, $" #n "::BIGINT"

// Parents before children (lot before lot_device); approvals in the order
// they were given, which is the order their ids keep.
const TableCopy kTableCopies[] = {
    {"checkpoint", true, "SELECT size, time_unix_ms, note, tree_edge FROM checkpoint ORDER BY size",
     "INSERT INTO checkpoint (station_id, size, time_unix_ms, note, tree_edge) VALUES ($1, $2, $3, $4, $5)"},
    {"ca_state", true,
     "SELECT issuer, key_id, key_uri, certificate_pem, state, activate_at_unix_ms, changed_seq FROM ca_state",
     "INSERT INTO ca_state (changed_station, issuer, key_id, key_uri, certificate_pem, state, activate_at_unix_ms, "
     "changed_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"},
    {"profile_lines", true, "SELECT profile, lines, changed_seq FROM profile_lines",
     "INSERT INTO profile_lines (changed_station, profile, lines, changed_seq) VALUES ($1, $2, $3, $4)"},
    {"approval", true,
     "SELECT action_key, officer, created_unix_ms, expires_unix_ms, seq, used_seq FROM approval ORDER BY rowid",
     "INSERT INTO approval (station_id, action_key, officer, created_unix_ms, expires_unix_ms, seq, used_station, "
     "used_seq) VALUES ($1, $2, $3, $4, $5, $6, " USED_BY(7) ")"},
    {"reissue_approval", true,
     "SELECT profile, device_id, approved_by, created_unix_ms, expires_unix_ms, seq, used_seq FROM reissue_approval "
     "ORDER BY rowid",
     "INSERT INTO reissue_approval (station_id, profile, device_id, approved_by, created_unix_ms, expires_unix_ms, "
     "seq, used_station, used_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, " USED_BY(8) ")"},
    {"registration_code", true, "SELECT code_sha256, profile, batch, expires_unix_ms, used_seq FROM registration_code",
     "INSERT INTO registration_code (code_sha256, profile, batch, expires_unix_ms, used_station, used_seq) "
     "VALUES ($2, $3, $4, $5, " USED_BY(6) ")"},
    {"lot", false, "SELECT name, profile, state, devices, source, imported_by, imported_unix_ms FROM lot",
     "INSERT INTO lot (name, profile, state, devices, source, imported_by, imported_unix_ms) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7)"},
    {"lot_device", false, "SELECT profile, device_id, lot FROM lot_device",
     "INSERT INTO lot_device (profile, device_id, lot) VALUES ($1, $2, $3)"},
};
#undef USED_BY

Error Conflict(const std::string& what) {
  return MakeError(Code::kFailedPrecondition, "MOVE_CONFLICT",
                   what + "; one fleet cannot hold two histories of one thing, so nothing was moved");
}

// Adds a SQLite column's value to `params` as it is: NULL, bytes or text.
void AddColumn(pg::Params& params, sqlite3_stmt* row, int col) {
  switch (sqlite3_column_type(row, col)) {
    case SQLITE_NULL: params.AddNull(); break;
    case SQLITE_BLOB: {
      const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(row, col));
      params.Add(Bytes(blob, blob + sqlite3_column_bytes(row, col)));
      break;
    }
    default: params.Add(ColumnText(row, col));
  }
}

// Inserts one row; a row the store holds already is a MOVE_CONFLICT.
Status Insert(PGconn* c, const std::string& sql, const pg::Params& params, const std::string& what) {
  pg::Rows rows = pg::Send(c, sql, params);
  if (PQresultStatus(rows.get()) == PGRES_COMMAND_OK) return {};
  if (pg::SqlState(rows.get()) == "23505") {
    const char* detail = PQresultErrorField(rows.get(), PG_DIAG_MESSAGE_DETAIL);
    return Conflict(what + " is in the store already (" + pg::Constraint(rows.get()) + (detail ? ": " : "") +
                    (detail ? detail : "") + ")");
  }
  return pg::Failure(c, rows.get(), "copying " + what);
}

}  // namespace

struct SqliteMove::State {
  std::string path;
  Db source;
  pg::Conn target;  // holds the station id once CopyTo claimed it
};

SqliteMove::SqliteMove(std::unique_ptr<State> state) : state_(std::move(state)) {}
SqliteMove::~SqliteMove() = default;  // closing the source rolls its transaction back

Result<std::unique_ptr<SqliteMove>> SqliteMove::Begin(const std::string& path) {
  if (OpenInAnotherProcess(path))
    return MakeError(Code::kFailedPrecondition, "AUDIT_LOG_IN_USE",
                     "another process has " + path + " open (a running station?): stop it, then move its log");
  auto state = std::make_unique<State>();
  state->path = path;
  ST_ASSIGN_OR_RETURN(state->source, OpenDbToMove(path));
  // The write lock, taken now and kept: the log stands still while it moves.
  ST_RETURN_IF_ERROR(Exec(state->source.get(), "BEGIN IMMEDIATE"));
  if (std::string moved = MovedTo(state->source.get()); !moved.empty())
    return MakeError(Code::kFailedPrecondition, "STORE_MOVED", path + " moved to " + moved + " before");
  return std::unique_ptr<SqliteMove>(new SqliteMove(std::move(state)));
}

Result<MoveSummary> SqliteMove::CopyTo(const PostgresOptions& options) {
  sqlite3* src = state_->source.get();
  const std::string& station = options.station_id;
  if (station.empty())
    return MakeError(Code::kFailedPrecondition, "CONFIG_INVALID", "the moved log needs a station_id in the store");
  const pg::Target where{options.url, options.password_file, station, true};
  ST_ASSIGN_OR_RETURN(state_->target, pg::Connect(where, true));
  PGconn* c = state_->target.get();
  ST_RETURN_IF_ERROR(pg::ClaimStation(c, station));
  ST_RETURN_IF_ERROR(pg::Script(c, "BEGIN", "BEGIN"));
  // The fleet's officer records commit one at a time: the moved ones come
  // after every committed one, in their own order (pg_store.cc's Append).
  ST_RETURN_IF_ERROR(pg::Execute(c, "SELECT pg_advisory_xact_lock(hashtextextended('officer-order', 0))",
                                 pg::Params(), "waiting for the fleet's officer records"));

  ST_ASSIGN_OR_RETURN(pg::Rows held, pg::Run(c,
                                             "SELECT 1 FROM issuance WHERE station_id = $1 UNION ALL SELECT 1 FROM "
                                             "officer_action WHERE station_id = $1 UNION ALL SELECT 1 FROM checkpoint "
                                             "WHERE station_id = $1 LIMIT 1",
                                             pg::Params(station), "looking for the station's log"));
  if (PQntuples(held.get()) > 0)
    return MakeError(Code::kFailedPrecondition, "STORE_NOT_EMPTY",
                     "the store holds a log of station '" + station + "' already; move a log under a station id "
                     "of its own");

  // The fleet's tables (a CA set, a profile's lines, a code batch, a lot)
  // hold one group's rows for the whole fleet: this log's must be new there.
  for (StateTable table : kStateTables) {
    if (GroupedByRecord(table)) continue;
    ST_ASSIGN_OR_RETURN(std::set<std::string> mine, sqlite::Groups(src, table));
    ST_ASSIGN_OR_RETURN(std::set<std::string> fleet, pg::Groups(c, station, table));
    std::vector<std::string> both;
    std::set_intersection(mine.begin(), mine.end(), fleet.begin(), fleet.end(), std::back_inserter(both));
    if (!both.empty())
      return Conflict(std::string(StateTableName(table)) + " '" + both.front() +
                      "' is the fleet's already, set by another station's officers");
  }

  MoveSummary summary;
  for (RecordKind kind : {RecordKind::kIssuance, RecordKind::kOfficer}) {
    const std::string select = SelectRecordSql(kind) + "ORDER BY seq";
    ST_ASSIGN_OR_RETURN(Stmt rows, Prepare(src, select.c_str()));
    int rc;
    while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
      const AuditRecord record = ReadRecord(rows.get(), kind);
      ST_RETURN_IF_ERROR(Insert(c, pg::InsertRecordSql(kind), pg::RecordParams(station, record),
                                "record " + std::to_string(record.seq)));
      ++(kind == RecordKind::kOfficer ? summary.officer_records : summary.issuances);
    }
    if (rc != SQLITE_DONE) return StorageError(src, "reading the audit log");
  }
  for (const TableCopy& copy : kTableCopies) {
    ST_ASSIGN_OR_RETURN(Stmt rows, Prepare(src, copy.select));
    int rc;
    while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
      pg::Params params;
      if (copy.per_station) params.Add(station);
      for (int col = 0; col < sqlite3_column_count(rows.get()); ++col) AddColumn(params, rows.get(), col);
      ST_RETURN_IF_ERROR(Insert(c, copy.insert, params, std::string("a row of ") + copy.table));
      ++(copy.table == std::string("checkpoint") ? summary.checkpoints : summary.registry_rows);
    }
    if (rc != SQLITE_DONE) return StorageError(src, std::string("reading ") + copy.table);
  }

  // One certificate per device holds across the fleet: a device this log
  // certified must not have a certificate from another station.
  ST_ASSIGN_OR_RETURN(pg::Rows twice, pg::Run(c,
                                              "SELECT a.seq, a.profile, a.device_id, b.station_id, b.seq FROM issuance "
                                              "a JOIN issuance b ON b.profile = a.profile AND b.device_id = "
                                              "a.device_id AND b.station_id <> a.station_id WHERE a.station_id = $1 "
                                              "AND a.device_id <> '' LIMIT 1",
                                              pg::Params(station), "looking for devices certified twice"));
  if (PQntuples(twice.get()) > 0)
    return Conflict("record " + pg::Text(twice.get(), 0, 0) + " certified device '" + pg::Text(twice.get(), 0, 2) +
                    "' of profile " + pg::Text(twice.get(), 0, 1) + ", which station " + pg::Text(twice.get(), 0, 3) +
                    " certified too (its record " + pg::Text(twice.get(), 0, 4) + ")");

  ST_ASSIGN_OR_RETURN(pg::Rows committed, pg::Run(c, "COMMIT", pg::Params(), "committing the moved log"));
  if (std::string(PQcmdStatus(committed.get())) != "COMMIT")
    return MakeError(Code::kUnavailable, "AUDIT_UNAVAILABLE", "the shared store rolled the moved log back");
  return summary;
}

Status SqliteMove::Finish(const std::string& where) {
  ST_RETURN_IF_ERROR(MarkMoved(state_->source.get(), where));
  ST_RETURN_IF_ERROR(Exec(state_->source.get(), "COMMIT"));
  state_->target.reset();
  return {};
}

}  // namespace station::store
