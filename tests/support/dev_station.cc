#include "tests/support/dev_station.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "station/pki/files.h"

namespace station::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/station-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::unique_ptr<DevStation> MakeDevStation(const std::string& ca_key) {
  auto station = std::make_unique<DevStation>();
  setup::DevSetupOptions options;
  options.dir = station->dir.path() + "/station";
  options.listen = "127.0.0.1:0";
  options.ca_key = ca_key;
  options.module = SOFTHSM_MODULE;
  auto result = setup::DevSetup(options);
  if (!result.ok()) {
    ADD_FAILURE() << "dev-setup failed: " << result.error().ToString();
    return nullptr;
  }
  station->setup = *result;
  auto config = config::LoadStationConfig(result->station_conf);
  if (!config.ok()) {
    ADD_FAILURE() << "station.conf does not load: " << config.error().ToString();
    return nullptr;
  }
  station->config = *config;
  station->config.issuance.workers = 2;
  auto pin = pki::ReadFile(options.dir + "/secrets/user.pin");
  if (pin.ok()) station->user_pin = pin->substr(0, pin->find('\n'));
  return station;
}

std::string ProgramPath(const std::string& name) { return std::string(STATION_BIN_DIR) + "/" + name; }

std::vector<std::string> ServerCommand(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ProgramPath("station-server")};
  argv.insert(argv.end(), args.begin(), args.end());
  if (::geteuid() == 0) argv.push_back("--allow-root");
  return argv;
}

}  // namespace station::testing
