// grpc.health.v1 on a real server whose token is reached through the
// fault-injecting module (bench/netsim/faults.h): SERVING while the station
// can issue; NOT_SERVING while the token fails, for good once issuance is
// halted, and from the stop on (a Watch sees it before the server goes).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "station/base/files.h"
#include "station/client/channel.h"
#include "station/server/server.h"
#include "tests/support/dev_station.h"
#include "tests/support/health_client.h"
#include "tests/support/subprocess.h"

namespace station::testing {
namespace {

using grpc::health::v1::HealthCheckResponse;

class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_ = MakeDevStation();
    ASSERT_TRUE(dev_);
    config::StationConfig& c = dev_->config;
    fault_file_ = dev_->dir.path() + "/fault";
    c.token.env["STATION_NETSIM_MODULE"] = c.token.module;
    c.token.env["STATION_NETSIM_FAULT_FILE"] = fault_file_;
    c.token.module = NETSIM_MODULE;
    auto server = server::StationServer::Start(c, "127.0.0.1:0");
    ASSERT_TRUE(server.ok()) << server.error().ToString();
    server_ = std::move(*server);
    auto line = config::LoadLineConfig(dev_->setup.line_conf);
    ASSERT_TRUE(line.ok());
    line_ = *line;
    line_.target = server_->address();
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::seconds(5));
  }

  void Inject(const std::string& fault) {
    std::ofstream(fault_file_ + ".tmp") << fault << "\n";
    ASSERT_EQ(std::rename((fault_file_ + ".tmp").c_str(), fault_file_.c_str()), 0);
  }

  CommandResult Simulate(const std::string& prefix) {
    return RunCommand({ProgramPath("station-line"), "--config", dev_->setup.line_conf, "--target",
                       server_->address(), "simulate", "--devices", "1", "--device-prefix", prefix, "--timeout",
                       "20"});
  }

  std::unique_ptr<DevStation> dev_;
  std::unique_ptr<server::StationServer> server_;
  config::LineConfig line_;
  std::string fault_file_;
};

TEST_F(HealthTest, ATokenThatFailsIsNotServingUntilItAnswersAgain) {
  for (const char* name : {"", "station.v1.LineSigner", "station.v1.Officer"})
    EXPECT_EQ(WaitForHealth(line_, "SERVING", 10, name), "SERVING") << name;
  EXPECT_EQ(HealthOf(line_, "station.v1.Nothing").rfind("NOT_FOUND", 0), 0u);
  for (const char* fault : {"device_error", "token_not_present", "user_not_logged_in"}) {
    SCOPED_TRACE(fault);
    Inject(fault);
    EXPECT_EQ(WaitForHealth(line_, "NOT_SERVING"), "NOT_SERVING");
    EXPECT_EQ(HealthOf(line_, "station.v1.LineSigner"), "NOT_SERVING");
    Inject("none");
    EXPECT_EQ(WaitForHealth(line_, "SERVING"), "SERVING");
  }
  auto issued = Simulate("after");
  EXPECT_EQ(Figure(issued.output, "issued"), 1) << issued.output;
}

TEST_F(HealthTest, HaltedIssuanceIsNotServingForGood) {
  ASSERT_EQ(WaitForHealth(line_, "SERVING"), "SERVING");
  Inject("corrupt_signature");
  auto refused = Simulate("bad");
  EXPECT_NE(refused.output.find("SIGNATURE_INVALID"), std::string::npos) << refused.output;
  Inject("none");
  EXPECT_EQ(WaitForHealth(line_, "NOT_SERVING"), "NOT_SERVING");
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the token answers again; the halt stands
  EXPECT_EQ(HealthOf(line_), "NOT_SERVING");
}

TEST_F(HealthTest, AWatcherSeesNotServingWhenTheServerStops) {
  ASSERT_EQ(WaitForHealth(line_, "SERVING"), "SERVING");
  auto channel = client::MakeChannel(line_);
  ASSERT_TRUE(channel.ok());
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  auto watch = stub->Watch(&context, request);
  HealthCheckResponse seen;
  ASSERT_TRUE(watch->Read(&seen));
  EXPECT_EQ(seen.status(), HealthCheckResponse::SERVING);
  std::thread stop([&] { server_->Shutdown(std::chrono::seconds(5)); });
  bool not_serving = false;
  while (!not_serving && watch->Read(&seen)) not_serving = seen.status() == HealthCheckResponse::NOT_SERVING;
  stop.join();
  server_.reset();
  EXPECT_TRUE(not_serving);
}

// The server's exit code tells systemd what a restart may cure: a token that
// does not answer at start may be back soon (69, EX_UNAVAILABLE).
TEST_F(HealthTest, AServerWhoseTokenDoesNotAnswerExitsUnavailable) {
  auto conf = base::ReadFile(dev_->setup.station_conf);
  ASSERT_TRUE(conf.ok());
  const std::string softhsm = dev_->config.token.env.at("STATION_NETSIM_MODULE");
  std::string netsim_conf = *conf;
  ASSERT_NE(netsim_conf.find(softhsm), std::string::npos);
  netsim_conf.replace(netsim_conf.find(softhsm), softhsm.size(), NETSIM_MODULE);
  const std::string conf_path = dev_->setup.station_conf;
  const std::string path = conf_path.substr(0, conf_path.rfind('/')) + "/netsim.conf";  // its paths are relative
  ASSERT_TRUE(base::WriteFile(path, netsim_conf).ok());
  Inject("device_error");
  std::string server;
  for (const std::string& arg : ServerCommand({"--config", path})) server += " '" + arg + "'";
  auto r = RunCommand({"/bin/bash", "-c",
                       "STATION_NETSIM_MODULE='" + softhsm + "' STATION_NETSIM_FAULT_FILE='" + fault_file_ + "'" +
                           server},
                      60);
  EXPECT_EQ(r.exit_code, 69) << r.output;
  EXPECT_NE(r.output.find("TOKEN_UNAVAILABLE"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace station::testing
