// Test fixtures: a temporary directory, and a complete development station
// (its own SoftHSM token, CA key, TLS material, configs) made inside it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "station/config/config.h"
#include "station/setup/dev_setup.h"

namespace station::testing {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct DevStation {
  TempDir dir;
  setup::DevSetupResult setup;
  config::StationConfig config;
  std::string user_pin;  // read back from the PIN file, for assertions only
};

// Makes a development station with the given CA key type. Call once per test
// process (the SoftHSM module reads SOFTHSM2_CONF once, when it is loaded).
std::unique_ptr<DevStation> MakeDevStation(const std::string& ca_key = "ec-p256");

// The path of a built program (station-server, stationctl, station-line).
std::string ProgramPath(const std::string& name);

// station-server with `args`, plus --allow-root when the tests run as root (CI does).
std::vector<std::string> ServerCommand(const std::vector<std::string>& args);

}  // namespace station::testing
