#include "station/config/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/dev_station.h"

namespace station::config {
namespace {

constexpr const char* kMinimal = R"(
state_dir = "state"
[token]
uri = "pkcs11:token=station"
pin_file = "secrets/user.pin"
[ca]
key_uri = "pkcs11:token=station;object=station-ca"
certificate = "ca/ca.pem"
[tls]
cert = "tls/server.pem"
key = "tls/server.key"
client_ca = "/etc/station/client-ca.pem"
)";

class ConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    std::string path = dir_.path() + "/station.conf";
    std::ofstream(path) << text;
    return path;
  }
  testing::TempDir dir_;
};

TEST_F(ConfigTest, LoadsDefaultsAndResolvesRelativePaths) {
  auto c = LoadStationConfig(Write(kMinimal));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->listen, "127.0.0.1:7443");
  EXPECT_EQ(c->state_dir, dir_.path() + "/state");
  EXPECT_EQ(c->token.pin.kind, hsm::PinSource::Kind::kFile);
  EXPECT_EQ(c->token.pin.name, dir_.path() + "/secrets/user.pin");
  EXPECT_EQ(c->tls.client_ca, "/etc/station/client-ca.pem");
  EXPECT_EQ(c->issuance.pipeline.max_csr_bytes, 16u * 1024);
  EXPECT_EQ(c->issuance.pipeline.queue_depth, 4096u);
  EXPECT_GT(c->issuance.pipeline.worker_count(), 0u);
  EXPECT_EQ(c->session_count(), c->issuance.pipeline.worker_count() + 2);
  EXPECT_EQ(c->audit.writer.commit_delay, std::chrono::milliseconds(2));
}

TEST_F(ConfigTest, NamesTheFieldThatIsWrong) {
  auto unknown = LoadStationConfig(Write(std::string(kMinimal) + "[issuance]\nworkerz = 4\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("issuance.workerz"), std::string::npos) << unknown.error().message;

  auto range = LoadStationConfig(Write(std::string(kMinimal) + "[issuance]\nmax_csr_bytes = 10\n"));
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.error().message.find("issuance.max_csr_bytes"), std::string::npos);

  auto delay = LoadStationConfig(Write(std::string(kMinimal) + "[audit]\ncommit_delay_ms = 101\n"));
  ASSERT_FALSE(delay.ok());
  EXPECT_NE(delay.error().message.find("audit.commit_delay_ms"), std::string::npos) << delay.error().message;

  auto type = LoadStationConfig(Write(std::string(kMinimal) + "[limits]\nmax_streams = \"many\"\n"));
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().message.find("limits.max_streams"), std::string::npos);

  // A float is not an integer, not even a whole one, nor one too large for any integer
  // (converting 1e24 was undefined behaviour: the config fuzzer found it).
  for (const char* number : {"4.0", "1E024", "-1e300", "nan", "inf"}) {
    auto floating = LoadStationConfig(Write(std::string(kMinimal) + "[issuance]\nqueue_depth = " + number + "\n"));
    ASSERT_FALSE(floating.ok()) << number;
    EXPECT_NE(floating.error().message.find("issuance.queue_depth"), std::string::npos) << floating.error().message;
    EXPECT_NE(floating.error().message.find("must be an integer"), std::string::npos) << floating.error().message;
  }

  auto syntax = LoadStationConfig(Write("state_dir = \n"));
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().message.find(":1:"), std::string::npos) << syntax.error().message;

  EXPECT_FALSE(LoadStationConfig(dir_.path() + "/missing.conf").ok());
}

TEST_F(ConfigTest, ReadsDurationsWithinTheirBounds) {
  auto c = LoadStationConfig(Write(std::string(kMinimal) + "[limits]\nstream_idle_timeout = \"90s\"\n"));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->limits.stream_idle_timeout_s, 90);
  EXPECT_EQ(c->issuance.pipeline.sign_timeout, std::chrono::seconds(10));  // the default when absent

  auto zero = LoadStationConfig(Write(std::string(kMinimal) + "[limits]\nstream_idle_timeout = \"0s\"\n"));
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("limits.stream_idle_timeout: must be a duration from 1s to 1d, like \"10m\""),
            std::string::npos)
      << zero.error().message;
  auto words = LoadStationConfig(Write(std::string(kMinimal) + "[limits]\nstream_idle_timeout = \"soon\"\n"));
  EXPECT_FALSE(words.ok());
}

TEST_F(ConfigTest, RequiresExactlyOnePinSource) {
  std::string two = kMinimal;
  two.replace(two.find("pin_file"), 0, "pin_env = \"STATION_PIN\"\n");
  auto c = LoadStationConfig(Write(two));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("exactly one"), std::string::npos);
  std::string none = kMinimal;
  none.erase(none.find("pin_file"), std::string("pin_file = \"secrets/user.pin\"\n").size());
  EXPECT_FALSE(LoadStationConfig(Write(none)).ok());
}

TEST_F(ConfigTest, LoadsLineConfig) {
  std::string path = dir_.path() + "/line.conf";
  std::ofstream(path) << "target = \"127.0.0.1:7443\"\n[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n";
  auto c = LoadLineConfig(path);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->target, "127.0.0.1:7443");
  EXPECT_EQ(c->key, dir_.path() + "/c.key");
  EXPECT_EQ(c->deadline_seconds, 30);
}

}  // namespace
}  // namespace station::config

namespace station::config {
namespace {

TEST(ConfigExampleTest, ShippedExampleLoads) {
  auto c = LoadStationConfig(std::string(STATION_SOURCE_DIR) + "/ops/station.conf.example");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->token.pin.kind, hsm::PinSource::Kind::kCredential);
  EXPECT_EQ(c->state_dir, "/var/lib/station");
}

}  // namespace
}  // namespace station::config
