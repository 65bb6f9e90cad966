// A thin owner of SQLite handles: a connection and its prepared statements.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include "hsm/error.h"
#include "station/audit/record.h"

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

// The columns of the issuance table, in the order SelectColumns() lists them.
const char* SelectColumns();
AuditRecord ReadRecord(sqlite3_stmt* stmt);

// SELECT of the record a caller's request_id produced (?1 caller, ?2 request_id).
std::string FindByRequestSql();

}  // namespace station::audit
