// stationctl store migrate: a station's log moved from its SQLite file into
// the shared store, and checked there to be the same log (the same records,
// hash chain, Merkle tree and signed checkpoints, and a registry its records
// vouch for) before the SQLite file is marked moved.
#pragma once

#include <string>

#include "station/audit/checkpoint.h"
#include "station/audit/verify.h"
#include "station/store/pg_store.h"
#include "station/store/sqlite_move.h"

namespace station::runtime {

struct Migration {
  std::string moved_to;          // "station ID of URL"
  store::MoveSummary moved;
  audit::VerifyReport verified;  // the copy's verdict: intact, as the file's was
};

// Moves the log at `sqlite_path` (a state_dir's audit.db) to `target`,
// checking its checkpoints with `key` before and after. Refuses a log that
// does not verify (DATA_LOSS AUDIT_LOG_BROKEN or AUDIT_STATE_BROKEN), and
// whatever SqliteMove::CopyTo refuses; when the copy does not verify, the
// file is left as it was, not marked moved.
Result<Migration> MigrateSqliteLog(const std::string& sqlite_path, const store::PostgresOptions& target,
                                   const audit::NoteKey& key);

}  // namespace station::runtime
