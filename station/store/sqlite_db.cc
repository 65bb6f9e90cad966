#include "station/store/sqlite_db.h"

#include <fcntl.h>
#include <unistd.h>

#include "station/store/record_sql.h"

namespace station::store {
namespace {

// The log's two tables come from the field table (LogTablesSql); the rest is here.
constexpr const char* kSchema = R"sql(
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

-- Officers' approvals of an action that needs k of them (officer/desk.h).
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

// A value of the meta table; "" when it has none (or the file no meta table).
std::string MetaValue(sqlite3* db, const char* key) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &raw, nullptr) != SQLITE_OK) return "";
  Stmt stmt(raw);
  sqlite3_bind_text(raw, 1, key, -1, SQLITE_STATIC);
  return sqlite3_step(stmt.get()) == SQLITE_ROW ? ColumnText(stmt.get(), 0) : "";
}

// The schema_version of an existing file; "" for a new one.
std::string StoredVersion(sqlite3* db) { return MetaValue(db, "schema_version"); }

Error SchemaMismatch(const std::string& path, const std::string& found) {
  return MakeError(Code::kFailedPrecondition, "AUDIT_SCHEMA_MISMATCH",
                   path + " has audit schema " + found + "; this station reads schema " + kSchemaVersion +
                       " (its officer records vouch for every registry row). Keep the old file for the record and "
                       "start this station with a new state_dir");
}

}  // namespace

std::string ColumnText(sqlite3_stmt* stmt, int col) {
  const unsigned char* text = sqlite3_column_text(stmt, col);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt, col)))
              : std::string();
}

void BindText(sqlite3_stmt* stmt, int idx, const std::string& s) {
  sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
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
    conn->statements = StatementCache(conn->db.get());
  }
  return Lease(this, std::move(conn));
}

ReadPool::Lease::~Lease() {
  if (conn_ == nullptr) return;
  conn_->statements.ResetAll();
  std::lock_guard<std::mutex> lock(pool_->mu_);
  pool_->idle_.push_back(std::move(conn_));
}

Result<sqlite3_stmt*> ReadPool::Lease::Statement(const char* sql) { return conn_->statements.Get(sql); }

Result<sqlite3_stmt*> StatementCache::Get(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db_, sql));
    it = statements_.emplace(sql, std::move(stmt)).first;
  }
  sqlite3_reset(it->second.get());
  sqlite3_clear_bindings(it->second.get());
  return it->second.get();
}

void StatementCache::ResetAll() {
  for (auto& [sql, stmt] : statements_) sqlite3_reset(stmt.get());
}

Error StorageError(sqlite3* db, const std::string& doing) {
  return MakeError(Code::kUnavailable, "AUDIT_UNAVAILABLE",
                   doing + " failed: " + (db ? sqlite3_errmsg(db) : "cannot open database"));
}

namespace {

// A connection to the file at `path` opened with `flags`, which waits up to
// 5 s for another connection's lock.
Result<Db> Connect(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return StorageError(raw, "opening audit database " + path);
  sqlite3_busy_timeout(db.get(), 5000);
  return db;
}

// The file holds this station's schema.
Status CheckVersion(sqlite3* db, const std::string& path) {
  std::string found = StoredVersion(db);
  if (found != kSchemaVersion) return SchemaMismatch(path, found.empty() ? "none" : found);
  return {};
}

}  // namespace

Result<Db> OpenDb(const std::string& path, bool read_write) {
  ST_ASSIGN_OR_RETURN(Db db, Connect(path, read_write ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
                                                      : SQLITE_OPEN_READONLY));
  if (read_write) {
    ST_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA journal_mode=WAL"));
    ST_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA synchronous=FULL"));
    // Checked before the schema runs: its indexes name columns an older file lacks.
    if (std::string found = StoredVersion(db.get()); !found.empty() && found != kSchemaVersion)
      return SchemaMismatch(path, found);
    // A log that moved to a shared store is continued there, never here too.
    if (std::string moved = MovedTo(db.get()); !moved.empty())
      return MakeError(Code::kFailedPrecondition, "STORE_MOVED",
                       path + " moved to " + moved + " (stationctl store migrate): give station.conf that [store] "
                       "url and station_id; the file stays readable for the record (audit verify)");
    ST_RETURN_IF_ERROR(Exec(db.get(), LogTablesSql(kSqliteDialect).c_str()));
    ST_RETURN_IF_ERROR(Exec(db.get(), kSchema));
  }
  ST_RETURN_IF_ERROR(CheckVersion(db.get(), path));
  return db;
}

Result<Db> OpenDbToMove(const std::string& path) {
  ST_ASSIGN_OR_RETURN(Db db, Connect(path, SQLITE_OPEN_READWRITE));
  ST_RETURN_IF_ERROR(CheckVersion(db.get(), path));
  return db;
}

bool OpenInAnotherProcess(const std::string& path) {
  // Every connection to a WAL database holds a read lock on the deadman
  // switch byte of its -shm file while it is open (SQLite's os_unix.c:
  // UNIX_SHM_DMS, byte 128); F_GETLK reports another process's lock only.
  const int fd = ::open((path + "-shm").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // no -shm file: no connection open
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 128;
  probe.l_len = 1;
  const bool held = ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

std::string MovedTo(sqlite3* db) { return MetaValue(db, "moved_to"); }

Status MarkMoved(sqlite3* db, const std::string& where) {
  return Run(db, "INSERT OR REPLACE INTO meta (key, value) VALUES ('moved_to', ?1)", "marking the log moved", where);
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

const std::string& InsertRecordSql(RecordKind kind) {
  static const std::string issuance = store::InsertRecordSql(RecordKind::kIssuance, kSqliteDialect),
                           officer = store::InsertRecordSql(RecordKind::kOfficer, kSqliteDialect);
  return kind == RecordKind::kOfficer ? officer : issuance;
}

AuditRecord ReadRecord(sqlite3_stmt* stmt, RecordKind kind) {
  AuditRecord r;
  r.kind = kind;
  int col = 0;
  for (const RecordField& f : RecordFields(kind)) {
    switch (f.type) {
      case FieldType::kSeq: r.seq = static_cast<uint64_t>(sqlite3_column_int64(stmt, col)); break;
      case FieldType::kTime: r.time_unix_ms = sqlite3_column_int64(stmt, col); break;
      case FieldType::kCertificate: {
        const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, col));
        r.certificate_der.assign(blob, blob + sqlite3_column_bytes(stmt, col));
        break;
      }
      case FieldType::kText:
      case FieldType::kJsonObject: r.*f.text = ColumnText(stmt, col); break;
    }
    ++col;
  }
  return r;
}

void BindRecord(sqlite3_stmt* stmt, const AuditRecord& r) {
  int idx = 1;
  for (const RecordField& f : RecordFields(r.kind)) {
    switch (f.type) {
      case FieldType::kSeq: sqlite3_bind_int64(stmt, idx, static_cast<sqlite3_int64>(r.seq)); break;
      case FieldType::kTime: sqlite3_bind_int64(stmt, idx, r.time_unix_ms); break;
      case FieldType::kCertificate:
        sqlite3_bind_blob(stmt, idx, r.certificate_der.data(), static_cast<int>(r.certificate_der.size()),
                          SQLITE_STATIC);
        break;
      case FieldType::kText:
      case FieldType::kJsonObject: BindText(stmt, idx, r.*f.text); break;
    }
    ++idx;
  }
}

int StepOnce(sqlite3_stmt* stmt) {
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc;
}

Result<std::optional<AuditRecord>> FindIssuanceByRequest(sqlite3* db, StatementCache& statements,
                                                         const std::string& caller, const std::string& request_id) {
  static const std::string sql = SelectRecordSql(RecordKind::kIssuance) + "WHERE caller = ?1 AND request_id = ?2";
  ST_ASSIGN_OR_RETURN(sqlite3_stmt* find, statements.Get(sql.c_str()));
  Bind(find, caller, request_id);
  const int rc = sqlite3_step(find);
  std::optional<AuditRecord> found;
  if (rc == SQLITE_ROW) found = ReadRecord(find, RecordKind::kIssuance);
  sqlite3_reset(find);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return StorageError(db, "looking up a request");
  return found;
}

}  // namespace station::store
