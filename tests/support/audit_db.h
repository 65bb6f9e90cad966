// Reading a station's audit database directly in tests (read-only, while
// the server may still be writing it: WAL readers do not block it).
#pragma once

#include <string>
#include <vector>

namespace station::testing {

// The first column of every row `sql` returns, as text; fails the test on an SQL error.
std::vector<std::string> QueryColumn(const std::string& db_path, const std::string& sql);

}  // namespace station::testing
