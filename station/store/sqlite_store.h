// The embedded store: one SQLite file in the station's state directory (WAL,
// synchronous=FULL, so a committed batch survives power loss). One writer
// connection for the audit writer's batches, one for staging lots, and a pool
// of read connections shared by every other thread.
#pragma once

#include <memory>
#include <string>

#include "station/store/store.h"

namespace station::store {

struct SqliteOptions {
  // false: reading only (audit verify, export); the file must exist.
  bool read_write = true;
  // false: commits are not synced (synchronous=OFF), so a crash loses the
  // last ones. Only for measuring what durability costs (station-bench).
  bool durable = true;
};

// Opens (and with read_write, creates) the store at `path`. A file of another
// schema is FAILED_PRECONDITION AUDIT_SCHEMA_MISMATCH.
Result<std::shared_ptr<Store>> OpenSqliteStore(const std::string& path, SqliteOptions options = {});

}  // namespace station::store
