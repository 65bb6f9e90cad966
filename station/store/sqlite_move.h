// Moving a station's log from its SQLite file into the shared store
// (stationctl store migrate): its records, its signed checkpoints and the
// registry rows its officer records vouch for, copied as they are (the same
// seq, hashes and notes), in one PostgreSQL transaction. Checking that the
// copy verifies is the caller's (it needs the audit key): see
// station/cli/store_cmd.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "station/base/error.h"
#include "station/store/pg_store.h"

namespace station::store {

struct MoveSummary {
  uint64_t issuances = 0;
  uint64_t officer_records = 0;
  uint64_t checkpoints = 0;
  uint64_t registry_rows = 0;  // CA set, profile lines, approvals, codes, lots
};

class SqliteMove {
 public:
  // Opens the SQLite log at `path` and holds it still: no station can commit
  // to it until this object is gone. FAILED_PRECONDITION AUDIT_LOG_IN_USE
  // while another process has it open (a running station), STORE_MOVED for a
  // log that moved before.
  static Result<std::unique_ptr<SqliteMove>> Begin(const std::string& path);
  ~SqliteMove();

  // Copies the log into `target` (its url, password file and station id) in
  // one transaction, and holds the station id there until this object is
  // gone, so no station continues the copy before it is checked. Nothing is
  // written when it refuses:
  // - FAILED_PRECONDITION STATION_ID_IN_USE: a station with that id runs;
  // - FAILED_PRECONDITION STORE_NOT_EMPTY: the store has a log of that id;
  // - FAILED_PRECONDITION MOVE_CONFLICT: the store's rows and this log's
  //   overlap (a CA set's issuer, a profile's line set, a code batch or a lot
  //   that the fleet has already; a key, serial, request id or code another
  //   station's log holds; a device another station certified): one fleet
  //   cannot hold two histories of one thing.
  Result<MoveSummary> CopyTo(const PostgresOptions& target);

  // Marks the SQLite log moved to `where`, so that no station continues it
  // there too, and lets go of it.
  Status Finish(const std::string& where);

 private:
  struct State;
  explicit SqliteMove(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace station::store
