// The gating tables' groups, their digests and the use checks in SQLite
// (store/ only): what audit/state.h holds to the records.
#pragma once

#include <sqlite3.h>

#include <optional>
#include <set>
#include <string>

#include "station/base/error.h"
#include "station/store/rows.h"

namespace station::store::sqlite {

// The groups a table holds rows for.
Result<std::set<std::string>> Groups(sqlite3* db, StateTable table);
// The digest of one group as the database holds it now (in the caller's
// transaction, when there is one): every column but the use marks, each as a
// type octet and an 8-byte big-endian length before its bytes.
Result<std::string> GroupDigest(sqlite3* db, StateTable table, const std::string& group);
// The first use mark the records do not explain, if any.
Result<std::optional<StateProblem>> CheckUses(sqlite3* db);

}  // namespace station::store::sqlite
