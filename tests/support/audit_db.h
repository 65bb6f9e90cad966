// A station's audit database as SQLite, directly, in tests: read while the
// server may still be writing it (WAL readers do not block it), or changed
// behind the station's back.
#pragma once

#include <string>
#include <vector>

namespace station::testing {

// The first column of every row `sql` returns, as text; fails the test on an SQL error.
std::vector<std::string> QueryColumn(const std::string& db_path, const std::string& sql);

// Runs `sql` (statements separated by ';') on the database as an attacker
// with write access to the state directory would; fails the test on an SQL error.
void ExecSql(const std::string& db_path, const std::string& sql);

}  // namespace station::testing
