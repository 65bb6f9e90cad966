#include "station/store/pg_db.h"

#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "station/store/record_sql.h"

namespace station::store::pg {
namespace {

// The log's two tables come from the field table (LogTablesSql); the rest is
// here. Rows that an officer or an issuance record wrote name the station of
// that record beside its seq: each station keeps its own log.
constexpr const char* kSchema = R"sql(
-- A key is certified once, whichever station asks: the reservation check
-- refuses it first, and this index holds even against a check that raced.
CREATE UNIQUE INDEX IF NOT EXISTS issuance_key_once ON issuance (spki_sha256);
CREATE INDEX IF NOT EXISTS issuance_by_device ON issuance (profile, device_id);
CREATE INDEX IF NOT EXISTS issuance_by_authorization ON issuance ("authorization") WHERE "authorization" <> '';

-- Officer records of every station in the order they committed: an officer
-- record's batch holds the fleet's officer lock from its append to its commit.
-- The state check reads the fleet's commitments in this order.
CREATE SEQUENCE IF NOT EXISTS officer_fleet_order;
ALTER TABLE officer_action ADD COLUMN IF NOT EXISTS fleet_order BIGINT NOT NULL DEFAULT nextval('officer_fleet_order');
CREATE INDEX IF NOT EXISTS officer_by_fleet_order ON officer_action (fleet_order);

CREATE TABLE IF NOT EXISTS lot (
  name             TEXT PRIMARY KEY,
  profile          TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('open', 'closed')),
  devices          BIGINT NOT NULL,
  source           TEXT NOT NULL,
  imported_by      TEXT NOT NULL,
  imported_unix_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS lot_device (
  profile   TEXT NOT NULL,
  device_id TEXT NOT NULL,
  lot       TEXT NOT NULL REFERENCES lot (name),
  PRIMARY KEY (profile, device_id, lot)
);
CREATE INDEX IF NOT EXISTS lot_device_by_lot ON lot_device (lot, profile, device_id);
CREATE TABLE IF NOT EXISTS lot_upload (
  station_id TEXT NOT NULL,  -- the station receiving the upload
  upload_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  PRIMARY KEY (upload_id, device_id)
);
CREATE TABLE IF NOT EXISTS registration_code (
  code_sha256      TEXT PRIMARY KEY,
  profile          TEXT NOT NULL,
  batch            TEXT NOT NULL,
  expires_unix_ms  BIGINT NOT NULL,
  used_station     TEXT,
  used_seq         BIGINT
);
CREATE INDEX IF NOT EXISTS code_by_batch ON registration_code (batch);
CREATE INDEX IF NOT EXISTS code_by_use ON registration_code (used_station, used_seq) WHERE used_seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS reissue_approval (
  id               BIGSERIAL PRIMARY KEY,
  profile          TEXT NOT NULL,
  device_id        TEXT NOT NULL,
  approved_by      TEXT NOT NULL,
  created_unix_ms  BIGINT NOT NULL,
  expires_unix_ms  BIGINT NOT NULL,
  station_id       TEXT NOT NULL,
  seq              BIGINT NOT NULL,
  used_station     TEXT,
  used_seq         BIGINT
);
CREATE INDEX IF NOT EXISTS reissue_by_device ON reissue_approval (profile, device_id);
CREATE INDEX IF NOT EXISTS reissue_by_seq ON reissue_approval (seq);
CREATE INDEX IF NOT EXISTS reissue_by_use ON reissue_approval (used_station, used_seq) WHERE used_seq IS NOT NULL;

CREATE TABLE IF NOT EXISTS checkpoint (
  station_id    TEXT NOT NULL,
  size          BIGINT NOT NULL,
  time_unix_ms  BIGINT NOT NULL,
  note          TEXT NOT NULL,
  tree_edge     BYTEA NOT NULL,
  PRIMARY KEY (station_id, size)
);

CREATE TABLE IF NOT EXISTS ca_state (
  issuer               TEXT NOT NULL,
  key_id               TEXT NOT NULL,
  key_uri              TEXT NOT NULL,
  certificate_pem      TEXT NOT NULL,
  state                TEXT NOT NULL CHECK (state IN ('staged', 'active', 'previous', 'retired')),
  activate_at_unix_ms  BIGINT NOT NULL,
  changed_station      TEXT NOT NULL,
  changed_seq          BIGINT NOT NULL,
  PRIMARY KEY (issuer, key_id)
);

CREATE TABLE IF NOT EXISTS approval (
  id               BIGSERIAL PRIMARY KEY,
  action_key       TEXT NOT NULL,
  officer          TEXT NOT NULL,
  created_unix_ms  BIGINT NOT NULL,
  expires_unix_ms  BIGINT NOT NULL,
  station_id       TEXT NOT NULL,
  seq              BIGINT NOT NULL,
  used_station     TEXT,
  used_seq         BIGINT
);
CREATE INDEX IF NOT EXISTS approval_by_action ON approval (action_key);
CREATE INDEX IF NOT EXISTS approval_by_seq ON approval (seq);
CREATE INDEX IF NOT EXISTS approval_by_use ON approval (used_station, used_seq) WHERE used_seq IS NOT NULL;

CREATE TABLE IF NOT EXISTS profile_lines (
  profile          TEXT PRIMARY KEY,
  lines            TEXT NOT NULL,
  changed_station  TEXT NOT NULL,
  changed_seq      BIGINT NOT NULL
);

-- Requests' look in one round trip (LookUpIssuances, pg_reservation.h): in a
-- batch, first wait for and hold the locks of every key, device and request
-- id ("" for none), in one order so that two stations' batches wait for each
-- other rather than deadlock; then, with a fresh snapshot (a VOLATILE function
-- takes one per query, so it sees the commit of a station it waited for), a
-- row per request: which records hold its key, its device and its request id.
CREATE OR REPLACE FUNCTION station_batch_lookup(p_keys TEXT[], p_profiles TEXT[], p_devices TEXT[],
                                                p_callers TEXT[], p_request_ids TEXT[], p_lock BOOLEAN)
RETURNS TABLE (key_record TEXT, device_record TEXT, request_record TEXT) LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  IF p_lock THEN
    PERFORM pg_advisory_xact_lock(l) FROM (
      SELECT hashtextextended('key:' || k, 0) FROM unnest(p_keys) AS k
      UNION SELECT hashtextextended('device:' || p || chr(1) || d, 0) FROM unnest(p_profiles, p_devices) AS t(p, d)
      UNION SELECT hashtextextended('request:' || c || chr(1) || r, 0) FROM unnest(p_callers, p_request_ids) AS t(c, r)
            WHERE c <> ''
      ORDER BY 1) AS locks(l);
  END IF;
  RETURN QUERY SELECT
    (SELECT i.station_id || ' ' || i.seq FROM issuance i WHERE i.spki_sha256 = t.k LIMIT 1),
    (SELECT i.station_id || ' ' || i.seq FROM issuance i WHERE i.profile = t.p AND i.device_id = t.d LIMIT 1),
    (SELECT i.station_id || ' ' || i.seq FROM issuance i WHERE i.caller = t.c AND i.request_id = t.r)
  FROM unnest(p_keys, p_profiles, p_devices, p_callers, p_request_ids) WITH ORDINALITY AS t(k, p, d, c, r, n)
  ORDER BY t.n;
END
$fn$;

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema_version', 'pg-1') ON CONFLICT (key) DO NOTHING;
)sql";

constexpr const char* kSchemaVersion = "pg-1";

// Stations starting together must not race to create the schema.
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7365636865)";

bool ConnectionLost(PGconn* conn, const std::string& state) {
  return PQstatus(conn) != CONNECTION_OK || state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" ||
         state == "57P03";
}

// The password file, if named, must be the station's alone.
Status CheckPasswordFile(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0)
    return MakeError(Code::kFailedPrecondition, "STORE_PASSWORD_FILE",
                     "the store's password_file " + path + " cannot be read");
  if ((st.st_mode & 077) != 0)
    return MakeError(Code::kFailedPrecondition, "STORE_PASSWORD_FILE",
                     "the store's password_file " + path + " is open to others; chmod 0600 it");
  return {};
}

Status CheckSchema(PGconn* conn) {
  ST_ASSIGN_OR_RETURN(Rows rows, Run(conn, "SELECT value FROM meta WHERE key = 'schema_version'", Params(),
                                     "reading the store's schema version"));
  const std::string found = PQntuples(rows.get()) == 1 ? Text(rows.get(), 0, 0) : "none";
  if (found != kSchemaVersion)
    return MakeError(Code::kFailedPrecondition, "AUDIT_SCHEMA_MISMATCH",
                     "the shared store has schema " + found + "; this station reads schema " + kSchemaVersion);
  return {};
}

}  // namespace

Result<Conn> Connect(const Target& target, bool create) {
  if (!target.password_file.empty()) ST_RETURN_IF_ERROR(CheckPasswordFile(target.password_file));
  // Later keywords override earlier ones: our defaults come before the URL,
  // the password file after it.
  std::vector<const char*> keys = {"connect_timeout", "application_name", "dbname"};
  const std::string application = "station-" + target.station_id;
  std::vector<const char*> values = {"5", application.c_str(), target.url.c_str()};
  if (!target.password_file.empty()) {
    keys.push_back("passfile");
    values.push_back(target.password_file.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  Conn conn(PQconnectdbParams(keys.data(), values.data(), 1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    return MakeFault(Fault::kStoreUnreachable, Code::kUnavailable, "STORE_UNAVAILABLE",
                     std::string("cannot reach the shared store: ") +
                         (conn ? PQerrorMessage(conn.get()) : "out of memory"));
  // "already exists, skipping" and the like are not for the station's log.
  ST_RETURN_IF_ERROR(Script(conn.get(),
                            std::string("SET client_min_messages = warning; SET synchronous_commit = ") +
                                (target.durable ? "on" : "off"),
                            "setting up the connection"));
  if (create) {
    ST_RETURN_IF_ERROR(Script(conn.get(), std::string("BEGIN; ") + kSchemaLock + ";\n" +
                                              LogTablesSql(kPostgresDialect) + kSchema + "COMMIT;",
                              "creating the store's schema"));
  }
  ST_RETURN_IF_ERROR(CheckSchema(conn.get()));
  return conn;
}

void Params::Push(std::string value, int format, bool null) {
  lengths_.push_back(static_cast<int>(value.size()));
  values_.push_back(std::move(value));
  formats_.push_back(format);
  nulls_.push_back(null);
}

std::vector<const char*> Params::values() const {
  std::vector<const char*> out;
  for (size_t i = 0; i < values_.size(); ++i) out.push_back(nulls_[i] ? nullptr : values_[i].c_str());
  return out;
}

namespace {

// Each connection's prepared statements: SQL text -> statement name.
struct PreparedStatements {
  std::mutex mu;
  std::unordered_map<const PGconn*, std::unordered_map<std::string, std::string>> by_conn;
};

PreparedStatements& Prepared() {
  static PreparedStatements* prepared = new PreparedStatements();  // outlives every connection
  return *prepared;
}

bool Preparable(const std::string& sql) {
  for (const char* verb : {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"})
    if (sql.rfind(verb, 0) == 0) return true;
  return false;
}

// The name `sql` is prepared under on `conn`, preparing it now if it is new
// there; "" when it cannot be (the statement then runs unprepared).
std::string PreparedName(PGconn* conn, const std::string& sql, const Params& params) {
  if (!Preparable(sql)) return "";
  PreparedStatements& prepared = Prepared();
  std::string name;
  {
    std::lock_guard<std::mutex> lock(prepared.mu);
    auto& statements = prepared.by_conn[conn];
    auto found = statements.find(sql);
    if (found != statements.end()) return found->second;
    name = "s" + std::to_string(statements.size());
  }
  Rows made(PQprepare(conn, name.c_str(), sql.c_str(), params.size(), nullptr));
  if (PQresultStatus(made.get()) != PGRES_COMMAND_OK) return "";
  std::lock_guard<std::mutex> lock(prepared.mu);
  prepared.by_conn[conn].emplace(sql, name);
  return name;
}

}  // namespace

void CloseConn(PGconn* c) noexcept {
  {
    PreparedStatements& prepared = Prepared();
    std::lock_guard<std::mutex> lock(prepared.mu);
    prepared.by_conn.erase(c);
  }
  PQfinish(c);
}

Rows Send(PGconn* conn, const std::string& sql, const Params& params) {
  const std::vector<const char*> values = params.values();
  const std::string name = PreparedName(conn, sql, params);
  if (!name.empty())
    return Rows(
        PQexecPrepared(conn, name.c_str(), params.size(), values.data(), params.lengths(), params.formats(), 0));
  return Rows(PQexecParams(conn, sql.c_str(), params.size(), nullptr, values.data(), params.lengths(), params.formats(),
                           0));
}

Result<Rows> Run(PGconn* conn, const std::string& sql, const Params& params, const char* doing) {
  Rows rows = Send(conn, sql, params);
  const ExecStatusType status = PQresultStatus(rows.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Failure(conn, rows.get(), doing);
  return rows;
}

Status Script(PGconn* conn, const std::string& sql, const char* doing) {
  Rows rows(PQexec(conn, sql.c_str()));
  const ExecStatusType status = PQresultStatus(rows.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Failure(conn, rows.get(), doing);
  return {};
}

Status ClaimStation(PGconn* conn, const std::string& station_id) {
  ST_ASSIGN_OR_RETURN(Rows held, Run(conn, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                                     Params("station:" + station_id), "claiming the station id"));
  if (Text(held.get(), 0, 0) != "t")
    return MakeError(Code::kFailedPrecondition, "STATION_ID_IN_USE",
                     "another process writes the log of station '" + station_id +
                         "' in this store; give each station its own station_id");
  return {};
}

Status Execute(PGconn* conn, const std::string& sql, const Params& params, const char* doing) {
  ST_RETURN_IF_ERROR(Run(conn, sql, params, doing));
  return {};
}

std::string SqlState(const PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state ? state : "";
}

std::string Constraint(const PGresult* result) {
  const char* name = result ? PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME) : nullptr;
  return name ? name : "";
}

Error Failure(PGconn* conn, const PGresult* result, const std::string& doing) {
  const std::string state = SqlState(result);
  std::string message = result ? PQresultErrorMessage(result) : "";
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (ConnectionLost(conn, state))
    return MakeFault(Fault::kStoreUnreachable, Code::kUnavailable, "STORE_UNAVAILABLE",
                     doing + " failed: the shared store is unreachable (" + message + "); retry shortly");
  if (state == "40001" || state == "40P01")
    return MakeFault(Fault::kStoreConflict, Code::kAborted, "STORE_CONFLICT",
                     doing + " collided with another station's: " + message);
  return MakeError(Code::kUnavailable, "AUDIT_UNAVAILABLE", doing + " failed: " + message);
}

std::string Text(const PGresult* rows, int row, int col) {
  return std::string(PQgetvalue(rows, row, col), static_cast<size_t>(PQgetlength(rows, row, col)));
}

int64_t Int(const PGresult* rows, int row, int col) { return std::strtoll(PQgetvalue(rows, row, col), nullptr, 10); }

bool IsNull(const PGresult* rows, int row, int col) { return PQgetisnull(rows, row, col) != 0; }

Bytes ByteaBytes(const PGresult* rows, int row, int col) {
  size_t size = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(rows, row, col)), &size);
  if (raw == nullptr) return {};
  Bytes out(raw, raw + size);
  PQfreemem(raw);
  return out;
}

const std::string& InsertRecordSql(RecordKind kind) {
  static const std::string issuance = store::InsertRecordSql(RecordKind::kIssuance, kPostgresDialect),
                           officer = store::InsertRecordSql(RecordKind::kOfficer, kPostgresDialect);
  return kind == RecordKind::kOfficer ? officer : issuance;
}

std::string InsertIssuancesSql(size_t count) {
  const std::string& one = InsertRecordSql(RecordKind::kIssuance);
  const int columns = static_cast<int>(RecordFields(RecordKind::kIssuance).size()) + 1;  // and station_id
  std::string sql = one;
  for (size_t row = 1; row < count; ++row) {
    sql += ", (";
    for (int col = 1; col <= columns; ++col)
      sql += (col > 1 ? ", $" : "$") + std::to_string(static_cast<int>(row) * columns + col);
    sql += ")";
  }
  return sql;
}

Params RecordParams(const std::string& station_id, const AuditRecord& r) {
  Params params;
  AddRecordParams(params, station_id, r);
  return params;
}

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const std::string& v : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

void AddRecordParams(Params& params, const std::string& station_id, const AuditRecord& r) {
  params.Add(station_id);
  for (const RecordField& f : RecordFields(r.kind)) {
    switch (f.type) {
      case FieldType::kSeq: params.Add(r.seq); break;
      case FieldType::kTime: params.Add(r.time_unix_ms); break;
      case FieldType::kCertificate: params.Add(r.certificate_der); break;
      case FieldType::kText:
      case FieldType::kJsonObject: params.Add(r.*f.text); break;
    }
  }
}

AuditRecord ReadRecord(const PGresult* rows, int row, RecordKind kind) {
  AuditRecord r;
  r.kind = kind;
  int col = 0;
  for (const RecordField& f : RecordFields(kind)) {
    switch (f.type) {
      case FieldType::kSeq: r.seq = static_cast<uint64_t>(Int(rows, row, col)); break;
      case FieldType::kTime: r.time_unix_ms = Int(rows, row, col); break;
      case FieldType::kCertificate: r.certificate_der = ByteaBytes(rows, row, col); break;
      case FieldType::kText:
      case FieldType::kJsonObject: r.*f.text = Text(rows, row, col); break;
    }
    ++col;
  }
  return r;
}

Result<std::optional<AuditRecord>> FindIssuanceByRequest(PGconn* c, const std::string& caller,
                                                         const std::string& request_id) {
  static const std::string sql = SelectRecordSql(RecordKind::kIssuance) + "WHERE caller = $1 AND request_id = $2";
  ST_ASSIGN_OR_RETURN(Rows rows, Run(c, sql, Params(caller, request_id), "looking up a request"));
  if (PQntuples(rows.get()) == 0) return std::optional<AuditRecord>();
  return std::optional<AuditRecord>(ReadRecord(rows.get(), 0, RecordKind::kIssuance));
}

}  // namespace station::store::pg
