// The shared store: one PostgreSQL database that several stations of a fleet
// use at once. Each station keeps its own audit log there (its own seq, hash
// chain, Merkle tree and checkpoints, under its station_id); the registry (the
// CA set, profile lines, lots, codes, approvals) and the duplicate checks are
// shared, so a promise that spans devices holds across every station.
//
// A record is durable when PostgreSQL has committed it (synchronous_commit =
// on; with a synchronous standby, on two machines). Connections that break
// (the database restarted or failed over) are made again at the next use.
#pragma once

#include <memory>
#include <string>

#include "station/store/store.h"

namespace station::store {

struct PostgresOptions {
  std::string url;            // libpq connection string or URI
  std::string password_file;  // 0600, PGPASSFILE format; "" for libpq's own lookup
  std::string station_id;     // whose log this store reads and appends to
  bool read_write = true;     // false: reading only; the schema must exist
  bool durable = true;        // false: synchronous_commit=off (station-bench only)
};

// UNAVAILABLE STORE_UNAVAILABLE when the database cannot be reached now;
// FAILED_PRECONDITION AUDIT_SCHEMA_MISMATCH for a database of another schema.
Result<std::shared_ptr<Store>> OpenPostgresStore(PostgresOptions options);

}  // namespace station::store
