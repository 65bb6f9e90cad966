// The log's two tables in SQL, laid out by the field table (record.h): their
// CREATE TABLE, and the select and insert of a whole record, for each store's
// dialect. Where several stations share one database, every row of the log
// also names its station, and seq counts within that station's own log.
#pragma once

#include <string>

#include "station/store/record.h"

namespace station::store {

struct SqlDialect {
  const char* integer;     // "INTEGER" (SQLite) or "BIGINT"
  const char* blob;        // "BLOB" (SQLite) or "BYTEA"
  bool per_station;        // a station_id column leads the key, and is $1 of an insert
};
inline constexpr SqlDialect kSqliteDialect{"INTEGER", "BLOB", false};
inline constexpr SqlDialect kPostgresDialect{"BIGINT", "BYTEA", true};

// "issuance" or "officer_action".
const char* RecordTable(RecordKind kind);
// CREATE TABLE IF NOT EXISTS of both kinds' tables.
std::string LogTablesSql(const SqlDialect& dialect);
// "SELECT <every field's column> FROM <the kind's table> " (add the WHERE).
const std::string& SelectRecordSql(RecordKind kind);
// INSERT of every field's column, in field order, as $1, $2, ... (after the
// station's own $1 where per_station).
std::string InsertRecordSql(RecordKind kind, const SqlDialect& dialect);

}  // namespace station::store
