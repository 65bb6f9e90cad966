#include "tests/support/dev_postgres.h"

#include "tests/support/subprocess.h"

namespace station::testing {
namespace {

std::string Script() { return std::string(STATION_SOURCE_DIR) + "/ops/dev-postgres"; }

}  // namespace

DevPostgres::DevPostgres() { Start(); }

DevPostgres::~DevPostgres() { Stop(); }

bool DevPostgres::Start() {
  CommandResult started = RunCommand({"/bin/bash", Script(), "start", dir_.path()}, 120);
  if (started.exit_code != 0) {
    error_ = "ops/dev-postgres start failed (exit " + std::to_string(started.exit_code) + "): " + started.output;
    url_.clear();
    return false;
  }
  url_ = started.output.substr(0, started.output.find('\n'));
  return true;
}

bool DevPostgres::Stop() {
  if (url_.empty()) return true;
  return RunCommand({"/bin/bash", Script(), "stop", dir_.path()}, 120).exit_code == 0;
}

store::PostgresOptions DevPostgres::Options(const std::string& station_id, bool read_write) const {
  return {.url = url_, .password_file = password_file(), .station_id = station_id, .read_write = read_write};
}

std::string DevPostgres::ConfigSection(const std::string& station_id) const {
  return "\n[store]\nurl = \"" + url_ + "\"\npassword_file = \"" + password_file() + "\"\nstation_id = \"" +
         station_id + "\"\n";
}

CommandResult DevPostgres::Sql(const std::string& sql) const {
  return RunCommand(
      {"/bin/bash", "-c", "PGPASSFILE=" + password_file() + " psql -tA '" + url_ + "' -c \"" + sql + "\""});
}

}  // namespace station::testing
