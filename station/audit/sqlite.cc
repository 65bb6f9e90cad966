#include "station/audit/sqlite.h"

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
  certificate_der BLOB NOT NULL,
  prev_hash       TEXT NOT NULL,
  record_hash     TEXT NOT NULL,
  UNIQUE (caller, request_id)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
)sql";

std::string Text(sqlite3_stmt* stmt, int col) {
  const unsigned char* text = sqlite3_column_text(stmt, col);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt, col)))
              : std::string();
}

}  // namespace

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
    ST_RETURN_IF_ERROR(Exec(db.get(), kSchema));
  }
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

const char* SelectColumns() {
  return "seq, time_unix_ms, request_id, caller, device_id, profile, serial_hex, certificate_id, spki_sha256, "
         "subject, issuer_key_id, csr_sha256, certificate_der, prev_hash, record_hash";
}

std::string FindByRequestSql() {
  return std::string("SELECT ") + SelectColumns() + " FROM issuance WHERE caller = ?1 AND request_id = ?2";
}

AuditRecord ReadRecord(sqlite3_stmt* stmt) {
  AuditRecord r;
  r.seq = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
  r.time_unix_ms = sqlite3_column_int64(stmt, 1);
  r.request_id = Text(stmt, 2);
  r.caller = Text(stmt, 3);
  r.device_id = Text(stmt, 4);
  r.profile = Text(stmt, 5);
  r.serial_hex = Text(stmt, 6);
  r.certificate_id = Text(stmt, 7);
  r.spki_sha256 = Text(stmt, 8);
  r.subject = Text(stmt, 9);
  r.issuer_key_id = Text(stmt, 10);
  r.csr_sha256 = Text(stmt, 11);
  const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, 12));
  r.certificate_der.assign(blob, blob + sqlite3_column_bytes(stmt, 12));
  r.prev_hash = Text(stmt, 13);
  r.record_hash = Text(stmt, 14);
  return r;
}

}  // namespace station::audit
