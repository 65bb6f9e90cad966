#include "station/audit/sqlite.h"

#include <chrono>

namespace station::audit {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS issuance (
  seq             INTEGER PRIMARY KEY,
  time_unix_ms    INTEGER NOT NULL,
  request_id      TEXT NOT NULL,
  caller          TEXT NOT NULL,
  device_id       TEXT NOT NULL,
  profile         TEXT NOT NULL,
  serial_hex      TEXT NOT NULL UNIQUE,
  certificate_id  TEXT NOT NULL,
  spki_sha256     TEXT NOT NULL,
  subject         TEXT NOT NULL,
  issuer_key_id   TEXT NOT NULL,
  csr_sha256      TEXT NOT NULL,
  thing_name      TEXT NOT NULL,
  thing_type      TEXT NOT NULL,
  thing_attributes TEXT NOT NULL,
  authorization   TEXT NOT NULL,
  certificate_der BLOB NOT NULL,
  prev_hash       TEXT NOT NULL,
  record_hash     TEXT NOT NULL,
  UNIQUE (caller, request_id)
);
-- Duplicate refusal looks these up for every request.
CREATE INDEX IF NOT EXISTS issuance_by_key ON issuance (spki_sha256);
CREATE INDEX IF NOT EXISTS issuance_by_device ON issuance (profile, device_id);
-- What records used (codes, reissue approvals), for the start-up check (state.h).
CREATE INDEX IF NOT EXISTS issuance_by_authorization ON issuance (authorization) WHERE authorization <> '';

-- Device authorization (registry): production lots, registration codes,
-- officers' approvals of a second certificate for one device.
CREATE TABLE IF NOT EXISTS lot (
  name             TEXT PRIMARY KEY,
  profile          TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('open', 'closed')),
  devices          INTEGER NOT NULL,
  source           TEXT NOT NULL,
  imported_by      TEXT NOT NULL,
  imported_unix_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lot_device (
  profile   TEXT NOT NULL,
  device_id TEXT NOT NULL,
  lot       TEXT NOT NULL REFERENCES lot (name),
  PRIMARY KEY (profile, device_id, lot)
);
-- A lot's devices in the order its digest reads them (state.h).
CREATE INDEX IF NOT EXISTS lot_device_by_lot ON lot_device (lot, profile, device_id);
-- Ids of lots being imported, kept here as they arrive instead of in memory;
-- the lot.import record moves them into lot_device. Issuance never reads them.
CREATE TABLE IF NOT EXISTS lot_upload (
  upload_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  PRIMARY KEY (upload_id, device_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registration_code (
  code_sha256      TEXT PRIMARY KEY,  -- only the hash of a code is kept
  profile          TEXT NOT NULL,
  batch            TEXT NOT NULL,
  expires_unix_ms  INTEGER NOT NULL,
  used_seq         INTEGER            -- the issuance that used it
);
CREATE INDEX IF NOT EXISTS code_by_batch ON registration_code (batch);
CREATE INDEX IF NOT EXISTS code_by_use ON registration_code (used_seq) WHERE used_seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS reissue_approval (
  profile          TEXT NOT NULL,
  device_id        TEXT NOT NULL,
  approved_by      TEXT NOT NULL,
  created_unix_ms  INTEGER NOT NULL,
  expires_unix_ms  INTEGER NOT NULL,
  seq              INTEGER NOT NULL,  -- the officer record that approved it
  used_seq         INTEGER
);
CREATE INDEX IF NOT EXISTS reissue_by_device ON reissue_approval (profile, device_id);
CREATE INDEX IF NOT EXISTS reissue_by_seq ON reissue_approval (seq);
CREATE INDEX IF NOT EXISTS reissue_by_use ON reissue_approval (used_seq) WHERE used_seq IS NOT NULL;

-- Signed checkpoints (checkpoint.h): the C2SP note, and the tree's right
-- edge at that size so the writer resumes without rehashing the whole log.
CREATE TABLE IF NOT EXISTS checkpoint (
  size          INTEGER PRIMARY KEY,
  time_unix_ms  INTEGER NOT NULL,
  note          TEXT NOT NULL,
  tree_edge     BLOB NOT NULL
);

-- Officers' actions: records of the same log as issuance (one seq, one hash
-- chain, one Merkle tree); record.h says which fields they use.
CREATE TABLE IF NOT EXISTS officer_action (
  seq            INTEGER PRIMARY KEY,
  time_unix_ms   INTEGER NOT NULL,
  action_id      TEXT NOT NULL UNIQUE,
  caller         TEXT NOT NULL,
  action         TEXT NOT NULL,
  profile        TEXT NOT NULL,
  device_id      TEXT NOT NULL,
  issuer_key_id  TEXT NOT NULL,
  detail         TEXT NOT NULL,
  prev_hash      TEXT NOT NULL,
  record_hash    TEXT NOT NULL
);

-- The CAs officers staged, activated and retired (officer/ca_set.h): what a
-- restart brings back. The config's [ca] only seeds an issuer never rotated.
CREATE TABLE IF NOT EXISTS ca_state (
  issuer               TEXT NOT NULL,
  key_id               TEXT NOT NULL,  -- the CA's subjectKeyIdentifier, hex
  key_uri              TEXT NOT NULL,
  certificate_pem      TEXT NOT NULL,  -- the CA certificate and its intermediates
  state                TEXT NOT NULL CHECK (state IN ('staged', 'active', 'previous', 'retired')),
  activate_at_unix_ms  INTEGER NOT NULL,
  changed_seq          INTEGER NOT NULL,  -- the officer record that set this state
  PRIMARY KEY (issuer, key_id)
);

-- Officers' approvals of an action that needs k of them (officer/approvals.h).
CREATE TABLE IF NOT EXISTS approval (
  action_key       TEXT NOT NULL,  -- the action approved, in canonical text
  officer          TEXT NOT NULL,
  created_unix_ms  INTEGER NOT NULL,
  expires_unix_ms  INTEGER NOT NULL,
  seq              INTEGER NOT NULL,  -- the approval's audit record
  used_seq         INTEGER            -- the record of the action it let happen
);
CREATE INDEX IF NOT EXISTS approval_by_action ON approval (action_key);
CREATE INDEX IF NOT EXISTS approval_by_seq ON approval (seq);
CREATE INDEX IF NOT EXISTS approval_by_use ON approval (used_seq) WHERE used_seq IS NOT NULL;

-- Who may use a profile, as officers last set it (officer/profile_lines.h);
-- at start it replaces the profile file's `lines`.
CREATE TABLE IF NOT EXISTS profile_lines (
  profile      TEXT PRIMARY KEY,
  lines        TEXT NOT NULL,  -- caller identities, one per line, sorted
  changed_seq  INTEGER NOT NULL  -- the officer record that set them
);

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '6');
)sql";

// Schema 6: officer records commit to the registry rows they make (state.h).
// An older file holds rows no record vouches for, so it is not upgraded.
constexpr const char* kSchemaVersion = "6";

// The schema_version of an existing file; "" for a new one.
std::string StoredVersion(sqlite3* db) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &raw, nullptr) != SQLITE_OK)
    return "";  // no meta table yet
  Stmt stmt(raw);
  return sqlite3_step(stmt.get()) == SQLITE_ROW ? ColumnText(stmt.get(), 0) : "";
}

Error SchemaMismatch(const std::string& path, const std::string& found) {
  return MakeError(Code::kFailedPrecondition, "AUDIT_SCHEMA_MISMATCH",
                   path + " has audit schema " + found + "; this station reads schema " + kSchemaVersion +
                       " (its officer records vouch for every registry row). Keep the old file for the record and "
                       "start this station with a new state_dir");
}

// Both kinds of record in seq order, in the columns ReadRecord reads.
constexpr const char* kLogAfterSql =
    "SELECT seq, time_unix_ms, request_id, caller, device_id, profile, serial_hex, certificate_id, spki_sha256, "
    "subject, issuer_key_id, csr_sha256, thing_name, thing_type, thing_attributes, authorization, certificate_der, "
    "prev_hash, record_hash, 0, '', '' FROM issuance WHERE seq > ?1 "
    "UNION ALL "
    "SELECT seq, time_unix_ms, action_id, caller, device_id, profile, '', '', '', '', issuer_key_id, '', '', '', '', "
    "'', X'', prev_hash, record_hash, 1, action, detail FROM officer_action WHERE seq > ?1 "
    "ORDER BY seq";

}  // namespace

std::string ColumnText(sqlite3_stmt* stmt, int col) {
  const unsigned char* text = sqlite3_column_text(stmt, col);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt, col)))
              : std::string();
}

void BindText(sqlite3_stmt* stmt, int idx, const std::string& s) {
  sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

int64_t NowUnixMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Result<ReadPool::Lease> ReadPool::Take() {
  std::unique_ptr<Conn> conn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!conn) {
    conn = std::make_unique<Conn>();
    ST_ASSIGN_OR_RETURN(conn->db, OpenDb(path_, false));
  }
  return Lease(this, std::move(conn));
}

ReadPool::Lease::~Lease() {
  if (conn_ == nullptr) return;
  // A statement left mid-step keeps a read transaction open and pins the WAL.
  for (auto& [sql, stmt] : conn_->statements) sqlite3_reset(stmt.get());
  std::lock_guard<std::mutex> lock(pool_->mu_);
  pool_->idle_.push_back(std::move(conn_));
}

Result<sqlite3_stmt*> ReadPool::Lease::Statement(const char* sql) {
  auto it = conn_->statements.find(sql);
  if (it == conn_->statements.end()) {
    ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(conn_->db.get(), sql));
    it = conn_->statements.emplace(sql, std::move(stmt)).first;
  }
  sqlite3_reset(it->second.get());
  sqlite3_clear_bindings(it->second.get());
  return it->second.get();
}

Error StorageError(sqlite3* db, const std::string& doing) {
  return MakeError(Code::kUnavailable, "AUDIT_UNAVAILABLE",
                   doing + " failed: " + (db ? sqlite3_errmsg(db) : "cannot open database"));
}

Result<Db> OpenDb(const std::string& path, bool read_write) {
  sqlite3* raw = nullptr;
  int flags = read_write ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return StorageError(raw, "opening audit database " + path);
  sqlite3_busy_timeout(db.get(), 5000);
  if (read_write) {
    ST_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA journal_mode=WAL"));
    ST_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA synchronous=FULL"));
    // Checked before the schema runs: its indexes name columns an older file lacks.
    if (std::string found = StoredVersion(db.get()); !found.empty() && found != kSchemaVersion)
      return SchemaMismatch(path, found);
    ST_RETURN_IF_ERROR(Exec(db.get(), kSchema));
  }
  std::string found = StoredVersion(db.get());
  if (found != kSchemaVersion) return SchemaMismatch(path, found.empty() ? "none" : found);
  return db;
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return MakeError(Code::kUnavailable, "AUDIT_UNAVAILABLE", std::string("audit database: ") + msg);
  }
  return {};
}

Result<Stmt> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
    return StorageError(db, "preparing a statement");
  return Stmt(stmt);
}

const char* LogSizeSql() {
  return "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM issuance), (SELECT COALESCE(MAX(seq), 0) FROM officer_action))";
}

const char* SelectColumns() {
  return "seq, time_unix_ms, request_id, caller, device_id, profile, serial_hex, certificate_id, spki_sha256, "
         "subject, issuer_key_id, csr_sha256, thing_name, thing_type, thing_attributes, authorization, "
         "certificate_der, prev_hash, record_hash";
}

const char* FindByRequestSql() {
  static const std::string sql =
      std::string("SELECT ") + SelectColumns() + " FROM issuance WHERE caller = ?1 AND request_id = ?2";
  return sql.c_str();
}

AuditRecord ReadRecord(sqlite3_stmt* stmt) {
  AuditRecord r;
  r.seq = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
  r.time_unix_ms = sqlite3_column_int64(stmt, 1);
  r.request_id = ColumnText(stmt, 2);
  r.caller = ColumnText(stmt, 3);
  r.device_id = ColumnText(stmt, 4);
  r.profile = ColumnText(stmt, 5);
  r.serial_hex = ColumnText(stmt, 6);
  r.certificate_id = ColumnText(stmt, 7);
  r.spki_sha256 = ColumnText(stmt, 8);
  r.subject = ColumnText(stmt, 9);
  r.issuer_key_id = ColumnText(stmt, 10);
  r.csr_sha256 = ColumnText(stmt, 11);
  r.thing_name = ColumnText(stmt, 12);
  r.thing_type = ColumnText(stmt, 13);
  r.thing_attributes = ColumnText(stmt, 14);
  r.authorization = ColumnText(stmt, 15);
  const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, 16));
  r.certificate_der.assign(blob, blob + sqlite3_column_bytes(stmt, 16));
  r.prev_hash = ColumnText(stmt, 17);
  r.record_hash = ColumnText(stmt, 18);
  if (sqlite3_column_count(stmt) > 21 && sqlite3_column_int(stmt, 19) == 1) {
    r.kind = RecordKind::kOfficer;
    r.action = ColumnText(stmt, 20);
    r.detail = ColumnText(stmt, 21);
  }
  return r;
}

Status ForEachRecord(sqlite3* db, uint64_t after_seq, const std::function<bool(const AuditRecord&)>& fn) {
  ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, kLogAfterSql));
  sqlite3_bind_int64(stmt.get(), 1, static_cast<sqlite3_int64>(after_seq));
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (!fn(ReadRecord(stmt.get()))) return {};
  }
  if (rc != SQLITE_DONE) return StorageError(db, "reading the audit log");
  return {};
}

Result<std::optional<uint64_t>> FindSeqByHash(sqlite3* db, const std::string& hash) {
  ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, "SELECT seq FROM issuance WHERE record_hash = ?1 UNION ALL "
                                             "SELECT seq FROM officer_action WHERE record_hash = ?1 LIMIT 1"));
  BindText(stmt.get(), 1, hash);
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_ROW) return std::optional<uint64_t>(static_cast<uint64_t>(sqlite3_column_int64(stmt.get(), 0)));
  if (rc != SQLITE_DONE) return StorageError(db, "searching the audit log");
  return std::optional<uint64_t>();
}

}  // namespace station::audit
