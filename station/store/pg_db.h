// PostgreSQL underneath the shared store (store/ only): connections, one
// statement run with its parameters, errors by SQLSTATE, the schema, and a
// record's row read and written by the field table (record.h).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "station/base/bytes.h"
#include "station/base/error.h"
#include "station/store/record.h"

namespace station::store::pg {

// Forgets the connection's prepared statements (Send), then closes it.
void CloseConn(PGconn* c) noexcept;
struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { CloseConn(c); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Rows = std::unique_ptr<PGresult, ResultDeleter>;

// Where the store is and who the station is.
struct Target {
  std::string url;            // a libpq connection string or URI
  std::string password_file;  // PGPASSFILE format, 0600; "" for libpq's own lookup
  std::string station_id;
  bool durable = true;        // false: synchronous_commit=off (benchmarks only)
};

// Connects and, with `create`, makes the schema. UNAVAILABLE STORE_UNAVAILABLE
// when the database cannot be reached; FAILED_PRECONDITION
// AUDIT_SCHEMA_MISMATCH for a database of another schema.
Result<Conn> Connect(const Target& target, bool create);

// A statement's parameters, as text (or binary bytes).
class Params {
 public:
  template <typename... Values>
  explicit Params(const Values&... values) {
    (Add(values), ...);
  }
  void Add(const std::string& text) { Push(text, 0); }
  void Add(const char* text) { Push(text, 0); }
  void Add(const Bytes& bytes) { Push(std::string(bytes.begin(), bytes.end()), 1); }
  void AddNull() { Push("", 0, true); }
  template <typename T>
    requires std::is_integral_v<T>
  void Add(T value) {
    Push(std::to_string(value), 0);
  }

  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void Push(std::string value, int format, bool null = false);
  std::vector<std::string> values_;
  std::vector<int> lengths_, formats_;
  std::vector<bool> nulls_;
};

// Takes the session lock that makes `conn` the one writer of the station's
// log: FAILED_PRECONDITION STATION_ID_IN_USE when another session holds it.
// It lasts as long as the connection.
Status ClaimStation(PGconn* conn, const std::string& station_id);

// Runs one statement and answers its result, failed or not. A query or DML
// statement is prepared once per connection (parsed and planned once), then
// executed by name.
Rows Send(PGconn* conn, const std::string& sql, const Params& params);

// Runs one statement; its rows (text format). A failure is the error its
// SQLSTATE calls for (Failure below); `doing` names what failed.
Result<Rows> Run(PGconn* conn, const std::string& sql, const Params& params, const char* doing);

// Runs statements of fixed text, several separated by ';', in one round trip.
Status Script(PGconn* conn, const std::string& sql, const char* doing);

// Runs a statement whose rows, if any, do not matter.
Status Execute(PGconn* conn, const std::string& sql, const Params& params, const char* doing);

// The error for a failed statement or connection:
// - connection gone or database shutting down: UNAVAILABLE STORE_UNAVAILABLE;
// - a serialization failure or deadlock: ABORTED STORE_CONFLICT (the whole
//   transaction is lost; the station retries it);
// - any other: UNAVAILABLE AUDIT_UNAVAILABLE.
Error Failure(PGconn* conn, const PGresult* result, const std::string& doing);
// The SQLSTATE of a failed result ("" when none).
std::string SqlState(const PGresult* result);
// The constraint a unique violation broke ("" when none).
std::string Constraint(const PGresult* result);

// A column's text; an integer column's value; whether it is NULL.
std::string Text(const PGresult* rows, int row, int col);
int64_t Int(const PGresult* rows, int row, int col);
bool IsNull(const PGresult* rows, int row, int col);
// A bytea column in text format (\x...) as bytes.
Bytes ByteaBytes(const PGresult* rows, int row, int col);

// The insert of a record of `kind` for this station ($1 is the station id).
const std::string& InsertRecordSql(RecordKind kind);
Params RecordParams(const std::string& station_id, const AuditRecord& record);
// One insert of `count` issuance records, whose parameters are each record's
// AddRecordParams in turn.
std::string InsertIssuancesSql(size_t count);
void AddRecordParams(Params& params, const std::string& station_id, const AuditRecord& record);

// A text[] parameter's literal: {"a","b\"c"}.
std::string TextArray(const std::vector<std::string>& values);
// A record of `kind` from row `row` of a SelectRecordSql (record_sql.h).
AuditRecord ReadRecord(const PGresult* rows, int row, RecordKind kind);

// The issuance a caller's request_id produced, at whichever station it asked.
Result<std::optional<AuditRecord>> FindIssuanceByRequest(PGconn* c, const std::string& caller,
                                                         const std::string& request_id);

}  // namespace station::store::pg
