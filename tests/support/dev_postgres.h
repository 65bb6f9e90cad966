// A real PostgreSQL 15 for tests: a throwaway cluster that ops/dev-postgres
// starts in a temporary directory, stopped and removed with this object. A
// test that needs it fails (never skips) when it cannot start, and says why.
#pragma once

#include <string>

#include "station/store/pg_store.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station::testing {

class DevPostgres {
 public:
  DevPostgres();  // starts it; ok() says whether it did
  ~DevPostgres();
  DevPostgres(const DevPostgres&) = delete;
  DevPostgres& operator=(const DevPostgres&) = delete;

  bool ok() const { return !url_.empty(); }
  const std::string& error() const { return error_; }  // ops/dev-postgres's output when it failed
  const std::string& url() const { return url_; }
  std::string password_file() const { return dir_.path() + "/pgpass"; }

  // Stops the server (connections break), and starts it again on the same port.
  bool Stop();
  bool Start();

  // The options of a store of station `station_id` in this database.
  store::PostgresOptions Options(const std::string& station_id, bool read_write = true) const;
  // psql -tA -c `sql` against this database, as someone with write access to
  // it would (the statement inside double quotes).
  CommandResult Sql(const std::string& sql) const;
  // The [store] section of a station.conf for station `station_id`.
  std::string ConfigSection(const std::string& station_id) const;

 private:
  TempDir dir_;
  std::string url_, error_;
};

}  // namespace station::testing
