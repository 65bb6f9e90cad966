// ops/station.conf.example is a config a station starts from: the files it
// names are put where it says (under a scratch directory instead of
// /etc/station), its token and keys are a dev station's, and station-server
// starts with every other setting as written, the PIN from a systemd credential.
#include <gtest/gtest.h>

#include <filesystem>

#include "station/base/files.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station::testing {
namespace {

namespace fs = std::filesystem;

void Replace(std::string& text, const std::string& from, const std::string& to) {
  ASSERT_NE(text.find(from), std::string::npos) << "the example no longer holds '" << from << "'";
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
}

TEST(ConfigExampleTest, TheShippedExampleStartsAStationOnceItsFilesExist) {
  auto dev = MakeDevStation();
  ASSERT_TRUE(dev);
  const std::string dev_dir = fs::path(dev->setup.station_conf).parent_path().string();
  const std::string etc = dev->dir.path() + "/etc-station";
  fs::create_directories(etc + "/tls");
  fs::copy(dev->setup.ca_cert, etc + "/line-ca-2026.pem");
  fs::copy(dev_dir + "/ca/roots.pem", etc + "/roots.pem");
  fs::copy(dev_dir + "/tls/server.pem", etc + "/tls/server.pem");
  fs::copy(dev_dir + "/tls/server.key", etc + "/tls/server.key");
  fs::copy(dev_dir + "/tls/tls-ca.pem", etc + "/tls/clients-ca.pem");
  fs::copy(dev->setup.audit_public_key, etc + "/audit-key.pem");
  fs::copy(dev->setup.profiles_dir, etc + "/profiles");
  fs::copy(dev_dir + "/ca", etc + "/ca", fs::copy_options::recursive);  // the Matter profile's own CAs
  const std::string credentials = dev->dir.path() + "/credentials";
  fs::create_directories(credentials);
  fs::copy(dev_dir + "/secrets/user.pin", credentials + "/token-pin");

  auto example = base::ReadFile(std::string(STATION_SOURCE_DIR) + "/ops/station.conf.example");
  ASSERT_TRUE(example.ok());
  std::string text = *example;
  Replace(text, "/etc/station", etc);
  Replace(text, "/var/lib/station", dev->dir.path() + "/var-lib-station");
  Replace(text, "token=factory-ca", "token=station");
  Replace(text, "object=line-ca-2026", "object=station-ca");
  Replace(text, "station.factory.example/line-7", dev->setup.audit_origin);
  Replace(text, "127.0.0.1:9464", "127.0.0.1:0");
  const std::string conf = dev->dir.path() + "/station.conf";
  ASSERT_TRUE(base::WriteFile(conf, text, 0644).ok());

  std::vector<std::string> command = {"/usr/bin/env", "CREDENTIALS_DIRECTORY=" + credentials,
                                      "SOFTHSM2_CONF=" + dev_dir + "/softhsm2.conf"};
  for (const std::string& arg : ServerCommand({"--config", conf, "--listen", "127.0.0.1:0"})) command.push_back(arg);
  Background server(command);
  EXPECT_FALSE(server.WaitForListening().empty()) << server.log();
  EXPECT_NE(server.log().find("metrics on http://127.0.0.1:"), std::string::npos) << server.log();
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
}

}  // namespace
}  // namespace station::testing
