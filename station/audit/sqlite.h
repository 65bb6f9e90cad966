// A thin owner of SQLite handles: a connection and its prepared statements.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "station/audit/record.h"
#include "station/base/error.h"

namespace station::audit {

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
Result<Db> OpenDb(const std::string& path, bool read_write);

Status Exec(sqlite3* db, const char* sql);
Result<Stmt> Prepare(sqlite3* db, const char* sql);
std::string ColumnText(sqlite3_stmt* stmt, int col);
// Binds without copying: `s` must outlive the statement's next step.
void BindText(sqlite3_stmt* stmt, int idx, const std::string& s);
int64_t NowUnixMs();

// Read-only connections shared by many threads: a thread leases one, with
// its statements prepared once (keyed by the SQL text's address, so pass
// string constants), and the lease hands it back.
class ReadPool {
  struct Conn {
    Db db;
    std::map<const char*, Stmt> statements;
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

   private:
    friend class ReadPool;
    Lease(ReadPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    ReadPool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  Result<Lease> Take();
  const std::string& path() const noexcept { return path_; }

 private:
  const std::string path_;
  std::mutex mu_;  // guards idle_
  std::vector<std::unique_ptr<Conn>> idle_;
};

// The columns of the issuance table, in the order SelectColumns() lists them.
const char* SelectColumns();
AuditRecord ReadRecord(sqlite3_stmt* stmt);

// SELECT of the highest seq of either kind of record (0 for an empty log).
const char* LogSizeSql();

// SELECT of the record a caller's request_id produced (?1 caller, ?2 request_id).
const char* FindByRequestSql();

// Calls `fn` for each record (issuances and officer actions) with
// seq > after_seq, in seq order, until it returns false.
Status ForEachRecord(sqlite3* db, uint64_t after_seq, const std::function<bool(const AuditRecord&)>& fn);

// The seq of the record whose record_hash is `hash`, if one is stored (a full
// scan: for naming what went wrong in a broken log, not for the hot path).
Result<std::optional<uint64_t>> FindSeqByHash(sqlite3* db, const std::string& hash);

}  // namespace station::audit
