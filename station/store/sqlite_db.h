// SQLite underneath the store (store/ only): connections and their prepared
// statements, the schema, and a record's row read and written by the field
// table (record.h).
#pragma once

#include <sqlite3.h>

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "station/base/error.h"
#include "station/store/record.h"
#include "station/store/record_sql.h"

namespace station::store {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

struct DbDeleter {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbDeleter>;

// An UNAVAILABLE error naming what failed and SQLite's message.
Error StorageError(sqlite3* db, const std::string& doing);

// Opens the audit database. Read-write opens create the schema, and set WAL
// mode with synchronous=FULL: a committed record survives power loss.
// Read-write opens refuse a log that moved to a shared store (FAILED_PRECONDITION
// STORE_MOVED).
Result<Db> OpenDb(const std::string& path, bool read_write);
// Opens an existing audit database read-write to move it (store migrate),
// moved or not: the mover reads the mark itself.
Result<Db> OpenDbToMove(const std::string& path);
// Whether another process has the database at `path` open now. Call it
// before this process opens it: closing the probe drops this process's own
// locks on the -shm file.
bool OpenInAnotherProcess(const std::string& path);
// Where the log moved ("station ID of URL"), or "" for a log still kept here;
// MarkMoved sets it.
std::string MovedTo(sqlite3* db);
Status MarkMoved(sqlite3* db, const std::string& where);

Status Exec(sqlite3* db, const char* sql);
Result<Stmt> Prepare(sqlite3* db, const char* sql);
std::string ColumnText(sqlite3_stmt* stmt, int col);
// Binds without copying: `s` must outlive the statement's next step.
void BindText(sqlite3_stmt* stmt, int idx, const std::string& s);

// One connection's statements, prepared once (keyed by the SQL text's
// address, so pass string constants) and handed out reset and unbound.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  Result<sqlite3_stmt*> Get(const char* sql);
  // No statement may stay mid-step: an open read would pin the WAL.
  void ResetAll();

 private:
  sqlite3* db_;
  std::map<const char*, Stmt> statements_;
};

// Read-only connections shared by many threads: a thread leases one, with
// its StatementCache, and the lease hands it back with every statement reset.
class ReadPool {
  struct Conn {
    Db db;
    StatementCache statements{nullptr};
  };

 public:
  explicit ReadPool(std::string path) : path_(std::move(path)) {}
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  class Lease {
   public:
    Lease(Lease&&) = default;
    ~Lease();
    // The prepared statement for `sql`, reset and unbound.
    Result<sqlite3_stmt*> Statement(const char* sql);
    sqlite3* db() const noexcept { return conn_->db.get(); }
    StatementCache& statements() noexcept { return conn_->statements; }

   private:
    friend class ReadPool;
    Lease(ReadPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    ReadPool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  Result<Lease> Take();

 private:
  const std::string path_;
  std::mutex mu_;  // guards idle_
  std::vector<std::unique_ptr<Conn>> idle_;
};

// A record of `kind` from a row of SelectRecordSql.
AuditRecord ReadRecord(sqlite3_stmt* stmt, RecordKind kind);
// record_sql.h's insert in SQLite's dialect, made once. BindRecord binds
// every column of `record` to it; the record must outlive the statement's step.
const std::string& InsertRecordSql(RecordKind kind);
void BindRecord(sqlite3_stmt* stmt, const AuditRecord& record);

// Steps a statement that returns no rows, leaving it reset and unbound.
int StepOnce(sqlite3_stmt* stmt);

// The issuance a caller's request_id produced, if any, through `statements`.
Result<std::optional<AuditRecord>> FindIssuanceByRequest(sqlite3* db, StatementCache& statements,
                                                         const std::string& caller, const std::string& request_id);

// Binds `values` to ?1, ?2, ... (strings copied, integers as INTEGER).
inline void BindAt(sqlite3_stmt*, int) {}
template <typename T, typename... Rest>
void BindAt(sqlite3_stmt* stmt, int idx, const T& value, const Rest&... rest) {
  if constexpr (std::is_integral_v<T>) {
    sqlite3_bind_int64(stmt, idx, static_cast<sqlite3_int64>(value));
  } else {
    const std::string& text = value;
    sqlite3_bind_text(stmt, idx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  BindAt(stmt, idx + 1, rest...);
}
template <typename... Values>
void Bind(sqlite3_stmt* stmt, const Values&... values) {
  BindAt(stmt, 1, values...);
}

// Prepares `sql`, binds `values` and runs it to the end; `doing` names it in
// the storage error.
template <typename... Values>
Status Run(sqlite3* db, const char* sql, const char* doing, const Values&... values) {
  ST_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, sql));
  Bind(stmt.get(), values...);
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) return StorageError(db, doing);
  return {};
}

}  // namespace station::store
