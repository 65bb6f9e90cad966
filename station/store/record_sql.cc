#include "station/store/record_sql.h"

namespace station::store {
namespace {

// Quoted, so that a field may be named what PostgreSQL reserves ("authorization").
std::string Quoted(const char* column) { return std::string("\"") + column + "\""; }

}  // namespace

const char* RecordTable(RecordKind kind) { return kind == RecordKind::kOfficer ? "officer_action" : "issuance"; }

// Officers' actions are records of the same log as issuance (one seq, one hash
// chain, one Merkle tree); record.h says which fields each kind has.
std::string LogTablesSql(const SqlDialect& d) {
  std::string sql;
  for (RecordKind kind : {RecordKind::kIssuance, RecordKind::kOfficer}) {
    sql += std::string("CREATE TABLE IF NOT EXISTS ") + RecordTable(kind) + " (";
    const char* sep = "\n  ";
    if (d.per_station) {
      sql += "\n  station_id TEXT NOT NULL";
      sep = ",\n  ";
    }
    for (const RecordField& f : RecordFields(kind)) {
      sql += sep + Quoted(f.column);
      sep = ",\n  ";
      switch (f.type) {
        case FieldType::kSeq:
          sql += std::string(" ") + d.integer + (d.per_station ? " NOT NULL" : " PRIMARY KEY");
          break;
        case FieldType::kTime: sql += std::string(" ") + d.integer + " NOT NULL"; break;
        case FieldType::kCertificate: sql += std::string(" ") + d.blob + " NOT NULL"; break;
        case FieldType::kText:
        case FieldType::kJsonObject: sql += " TEXT NOT NULL"; break;
      }
      if (f.unique) sql += " UNIQUE";
    }
    if (d.per_station) sql += ",\n  PRIMARY KEY (station_id, seq)";
    // A line's request ids are its own: a retry finds its first answer, at
    // whichever station it asks.
    if (kind == RecordKind::kIssuance) sql += ",\n  UNIQUE (caller, request_id)";
    sql += "\n);\n";
  }
  return sql;
}

const std::string& SelectRecordSql(RecordKind kind) {
  static const auto make = [](RecordKind k) {
    std::string sql = "SELECT ";
    const char* sep = "";
    for (const RecordField& f : RecordFields(k)) {
      sql += sep + Quoted(f.column);
      sep = ", ";
    }
    return sql + " FROM " + RecordTable(k) + " ";
  };
  static const std::string issuance = make(RecordKind::kIssuance), officer = make(RecordKind::kOfficer);
  return kind == RecordKind::kOfficer ? officer : issuance;
}

std::string InsertRecordSql(RecordKind kind, const SqlDialect& d) {
  std::string columns = d.per_station ? "station_id" : "", values = d.per_station ? "$1" : "";
  int n = d.per_station ? 1 : 0;
  for (const RecordField& f : RecordFields(kind)) {
    columns += std::string(n > 0 ? ", " : "") + Quoted(f.column);
    values += (n > 0 ? ", $" : "$") + std::to_string(n + 1);
    ++n;
  }
  return std::string("INSERT INTO ") + RecordTable(kind) + " (" + columns + ") VALUES (" + values + ")";
}

}  // namespace station::store
