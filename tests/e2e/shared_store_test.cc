// Stations on a shared PostgreSQL store, end to end: real station-server
// processes, real lines over gRPC and TLS, a real database started by
// ops/dev-postgres. A device passing two stations gets one certificate; a
// station's log verifies and survives its restart; the database stopped under
// load costs requests, never a record, and issuance resumes by itself.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <thread>

#include "station/base/files.h"
#include "station/config/config.h"
#include "tests/support/dev_postgres.h"
#include "tests/support/health_client.h"
#include "tests/support/subprocess.h"

namespace station {
namespace {

using testing::Figure;
using testing::ProgramPath;
using testing::RunCommand;
using testing::ServerCommand;

class SharedStoreE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pg_.ok()) << pg_.error(); }

  std::string Dir(const std::string& station) const { return tmp_.path() + "/" + station; }
  std::string Conf(const std::string& station) const { return Dir(station) + "/station.conf"; }

  void Setup(const std::string& station) {
    auto r = RunCommand({ProgramPath("stationctl"), "dev-setup", "--dir", Dir(station), "--listen", "127.0.0.1:0",
                         "--store", pg_.url(), "--store-password-file", pg_.password_file(), "--station-id", station});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("as station " + station), std::string::npos) << r.output;
  }

  // A second station of `first`'s fleet: the same token, CAs, TLS CA, profiles and officers.
  void Join(const std::string& station, const std::string& first) {
    auto r = RunCommand({ProgramPath("stationctl"), "dev-setup", "--dir", Dir(station), "--join", Dir(first),
                         "--listen", "127.0.0.1:0", "--station-id", station});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("as station " + station), std::string::npos) << r.output;
  }

  testing::CommandResult Simulate(const std::string& station, const std::string& address, int devices,
                                  const std::string& prefix) {
    return RunCommand({ProgramPath("station-line"), "--config", Dir(station) + "/line.conf", "--target", address,
                       "simulate", "--devices", std::to_string(devices), "--streams", "2", "--profile",
                       "aws-iot-device", "--device-prefix", prefix, "--timeout", "60"});
  }

  testing::CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), ProgramPath("stationctl"));
    return RunCommand(args);
  }

  testing::CommandResult Sql(const std::string& sql) { return pg_.Sql(sql); }

  testing::CommandResult Verify(const std::string& station) {
    return RunCommand({ProgramPath("stationctl"), "audit", "verify", "--config", Conf(station)});
  }

  testing::DevPostgres pg_;
  testing::TempDir tmp_;
};

TEST_F(SharedStoreE2eTest, AStationsLogVerifiesAndSurvivesItsRestart) {
  Setup("line-a");
  for (int run = 0; run < 2; ++run) {
    testing::Background server(ServerCommand({"--config", Conf("line-a")}));
    const std::string address = server.WaitForListening();
    ASSERT_FALSE(address.empty()) << server.log();
    auto sim = Simulate("line-a", address, 20, "run" + std::to_string(run) + "-");
    ASSERT_EQ(sim.exit_code, 0) << sim.output;
    EXPECT_EQ(Figure(sim.output, "issued"), 20) << sim.output;
    ASSERT_EQ(server.Stop(SIGTERM), 0) << server.log();
  }
  auto verify = Verify("line-a");
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("40 records"), std::string::npos) << verify.output;
}

TEST_F(SharedStoreE2eTest, ADevicePassingTwoStationsGetsOneCertificate) {
  Setup("line-a");
  Join("line-b", "line-a");
  testing::Background a(ServerCommand({"--config", Conf("line-a")}));
  testing::Background b(ServerCommand({"--config", Conf("line-b")}));
  const std::string at_a = a.WaitForListening(), at_b = b.WaitForListening();
  ASSERT_FALSE(at_a.empty()) << a.log();
  ASSERT_FALSE(at_b.empty()) << b.log();

  auto first = Simulate("line-a", at_a, 10, "board-");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto again = Simulate("line-b", at_b, 10, "board-");
  EXPECT_EQ(Figure(again.output, "issued"), 0) << again.output;
  EXPECT_NE(again.output.find("failed DUPLICATE_DEVICE: 10"), std::string::npos) << again.output;
  auto own = Simulate("line-b", at_b, 5, "other-");
  ASSERT_EQ(own.exit_code, 0) << own.output;

  // Station a stops dead; station b keeps serving its own line.
  ASSERT_EQ(a.Stop(SIGKILL), 128 + SIGKILL);
  auto after = Simulate("line-b", at_b, 5, "later-");
  ASSERT_EQ(after.exit_code, 0) << after.output;
  ASSERT_EQ(b.Stop(SIGTERM), 0) << b.log();

  auto verify_a = Verify("line-a");
  ASSERT_EQ(verify_a.exit_code, 0) << verify_a.output;
  EXPECT_NE(verify_a.output.find("10 records"), std::string::npos) << verify_a.output;
  auto verify_b = Verify("line-b");
  ASSERT_EQ(verify_b.exit_code, 0) << verify_b.output;
  EXPECT_NE(verify_b.output.find("10 records"), std::string::npos) << verify_b.output;

  // An auditor at station a checks every station's log, b's checkpoints with
  // b's own key, pinned in a directory of keys; without it b is not checked.
  auto unkeyed = Ctl({"audit", "verify", "--config", Conf("line-a"), "--all"});
  EXPECT_EQ(unkeyed.exit_code, 1) << unkeyed.output;
  EXPECT_NE(unkeyed.output.find("2 stations: 1 intact, 0 broken, 1 not checked"), std::string::npos)
      << unkeyed.output;
  // The same verdicts as one JSON document, for the factory's MES.
  auto unkeyed_json = Ctl({"audit", "verify", "--config", Conf("line-a"), "--all", "--format", "json"});
  EXPECT_EQ(unkeyed_json.exit_code, 1) << unkeyed_json.output;
  EXPECT_EQ(unkeyed_json.output.rfind("{\"stations\":[{\"station\":\"line-a\",\"this_station\":true,"
                                     "\"checked\":true,\"log\":",
                                     0),
            0u)
      << unkeyed_json.output;
  EXPECT_NE(unkeyed_json.output.find("{\"station\":\"line-b\",\"this_station\":false,\"checked\":false,\"why\":"),
            std::string::npos) << unkeyed_json.output;
  EXPECT_NE(unkeyed_json.output.find("],\"intact\":1,\"broken\":0,\"not_checked\":1}\n"), std::string::npos)
      << unkeyed_json.output;
  const std::string keys = tmp_.path() + "/keys";
  ASSERT_EQ(RunCommand({"/bin/bash", "-c", "mkdir -p " + keys + " && cp " + Dir("line-b") + "/audit-key.pem " + keys +
                                               "/line-b.pem"})
                .exit_code,
            0);
  auto all = Ctl({"audit", "verify", "--config", Conf("line-a"), "--all", "--keys", keys});
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find("== station line-b"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("2 stations: 2 intact, 0 broken, 0 not checked"), std::string::npos) << all.output;
  auto origin = RunCommand({"/bin/bash", "-c", "sed -n 's/^origin = \"\\(.*\\)\"/\\1/p' " + Conf("line-b")});
  const std::string b_origin = origin.output.substr(0, origin.output.find('\n'));
  auto pinned = Ctl({"audit", "verify", "--config", Conf("line-a"), "--station", "line-b", "--public-key",
                     Dir("line-b") + "/audit-key.pem", "--origin", b_origin});
  ASSERT_EQ(pinned.exit_code, 0) << pinned.output;
  EXPECT_NE(pinned.output.find("10 records"), std::string::npos) << pinned.output;
  EXPECT_EQ(pinned.output.find("0 signed checkpoints"), std::string::npos) << pinned.output;
  EXPECT_EQ(pinned.output.find("warning"), std::string::npos) << pinned.output;
  auto unpinned = Ctl({"audit", "prove", "--config", Conf("line-a"), "--station", "line-b", "--serial", "00"});
  EXPECT_NE(unpinned.exit_code, 0);
  EXPECT_NE(unpinned.output.find("--public-key FILE --origin ORIGIN"), std::string::npos) << unpinned.output;

  // One changed record of station b, and the fleet's verdict says so.
  auto tamper = Sql("UPDATE issuance SET subject = 'CN=forged' WHERE station_id = 'line-b' AND seq = 3");
  ASSERT_EQ(tamper.exit_code, 0) << tamper.output;
  auto broken = Ctl({"audit", "verify", "--config", Conf("line-a"), "--all", "--keys", keys});
  EXPECT_EQ(broken.exit_code, 1) << broken.output;
  EXPECT_NE(broken.output.find("2 stations: 1 intact, 1 broken"), std::string::npos) << broken.output;
  EXPECT_NE(broken.output.find("BROKEN"), std::string::npos) << broken.output;
  auto broken_json = Ctl({"audit", "verify", "--config", Conf("line-a"), "--all", "--keys", keys, "--format", "json"});
  EXPECT_EQ(broken_json.exit_code, 1) << broken_json.output;
  const size_t line_b_verdict =
      broken_json.output.find("{\"station\":\"line-b\",\"this_station\":false,\"checked\":true,");
  ASSERT_NE(line_b_verdict, std::string::npos) << broken_json.output;
  EXPECT_NE(broken_json.output.find("\"intact\":false,", line_b_verdict), std::string::npos) << broken_json.output;
  EXPECT_NE(broken_json.output.find("\"problem\":{\"kind\":", line_b_verdict), std::string::npos) << broken_json.output;
  EXPECT_NE(broken_json.output.find("],\"intact\":1,\"broken\":1,\"not_checked\":0}\n"), std::string::npos)
      << broken_json.output;
}

TEST_F(SharedStoreE2eTest, TheDatabaseStoppedUnderLoadCostsRequestsNotRecords) {
  Setup("line-a");
  testing::Background server(ServerCommand({"--config", Conf("line-a")}));
  const std::string address = server.WaitForListening();
  ASSERT_FALSE(address.empty()) << server.log();

  testing::CommandResult during;
  std::thread load([&] {
    during = RunCommand({ProgramPath("station-line"), "--config", Dir("line-a") + "/line.conf", "--target", address,
                         "simulate", "--devices", "3000", "--streams", "2", "--rate", "300", "--profile",
                         "aws-iot-device", "--device-prefix", "load-", "--timeout", "60"});
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto line = config::LoadLineConfig(Dir("line-a") + "/line.conf");
  ASSERT_TRUE(line.ok());
  line->target = address;
  EXPECT_EQ(testing::HealthOf(*line), "SERVING");
  ASSERT_TRUE(pg_.Stop());
  // Health tells line controllers and load balancers while the store is away.
  EXPECT_EQ(testing::WaitForHealth(*line, "NOT_SERVING"), "NOT_SERVING");
  ASSERT_TRUE(pg_.Start()) << pg_.error();
  EXPECT_EQ(testing::WaitForHealth(*line, "SERVING"), "SERVING");
  load.join();
  const long issued_during = Figure(during.output, "issued");
  EXPECT_GT(issued_during, 0) << during.output;
  EXPECT_NE(during.output.find("failed STORE_UNAVAILABLE"), std::string::npos) << during.output;

  // Issuance resumes by itself, with no restart.
  auto after = Simulate("line-a", address, 20, "after-");
  ASSERT_EQ(after.exit_code, 0) << after.output << server.log();
  ASSERT_EQ(server.Stop(SIGTERM), 0) << server.log();

  // Every certificate a line holds has its record; the log verifies.
  auto verify = Verify("line-a");
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  auto count = Sql("SELECT COUNT(*) FROM issuance WHERE station_id = 'line-a'");
  ASSERT_EQ(count.exit_code, 0) << count.output;
  EXPECT_GE(std::stol(count.output), issued_during + 20) << count.output;
}

TEST_F(SharedStoreE2eTest, OfficersActAtEitherStationAndBothStationsStillStart) {
  Setup("line-a");
  Join("line-b", "line-a");
  auto start = [&](const std::string& station) {
    auto server = std::make_unique<testing::Background>(ServerCommand({"--config", Conf(station)}));
    const std::string address = server->WaitForListening();
    EXPECT_FALSE(address.empty()) << server->log();
    return std::make_pair(std::move(server), address);
  };
  auto officer = [&](const std::string& station, const std::string& address, int n, std::vector<std::string> args) {
    args.insert(args.begin(), ProgramPath("stationctl"));
    args.insert(args.begin() + 3, {"--config", Dir(station) + (n == 1 ? "/officer.conf" : "/officer-2.conf"),
                                   "--target", address});
    return RunCommand(args);
  };
  auto [a, at_a] = start("line-a");
  auto [b, at_b] = start("line-b");
  ASSERT_FALSE(at_a.empty() || at_b.empty());

  // Codes minted at a are good once, at either station.
  const std::string codes = tmp_.path() + "/codes.csv";
  auto mint = officer("line-a", at_a, 1,
                      {"codes", "mint", "--profile", "fleet-claim", "--count", "2", "--ttl", "5m", "--out", codes});
  ASSERT_EQ(mint.exit_code, 0) << mint.output;
  auto csv = RunCommand({"/bin/bash", "-c", "sed -n 2p " + codes + " | cut -d, -f1"});
  const std::string code = csv.output.substr(0, csv.output.find('\n'));
  ASSERT_FALSE(code.empty()) << csv.output;
  auto claim = [&](const std::string& station, const std::string& address) {
    return RunCommand({ProgramPath("station-line"), "--config", Dir(station) + "/line.conf", "--target", address,
                       "simulate", "--devices", "1", "--profile", "fleet-claim", "--device-prefix", station + "-claim-",
                       "--attributes", "registration_code=" + code});
  };
  auto used_at_b = claim("line-b", at_b);
  EXPECT_EQ(Figure(used_at_b.output, "issued"), 1) << used_at_b.output;
  auto again_at_a = claim("line-a", at_a);
  EXPECT_NE(again_at_a.output.find("failed DEVICE_NOT_AUTHORIZED: 1"), std::string::npos) << again_at_a.output;

  // A lot imported at a serves the line of b.
  std::string lot = "device_id\n";
  for (int i = 0; i < 5; ++i) lot += "lot1-00000" + std::to_string(i) + "\n";
  ASSERT_TRUE(base::WriteFile(tmp_.path() + "/lot1.csv", lot).ok());
  auto import = officer("line-a", at_a, 1, {"lot", "import", "--profile", "matter-dac", "--lot", "lot1",
                                             tmp_.path() + "/lot1.csv"});
  ASSERT_EQ(import.exit_code, 0) << import.output;
  auto on_lot = RunCommand({ProgramPath("station-line"), "--config", Dir("line-b") + "/line.conf", "--target", at_b,
                            "simulate", "--devices", "6", "--profile", "matter-dac", "--device-prefix", "lot1",
                            "--attributes", "vendor_id=FFF1,product_id=8000"});
  EXPECT_EQ(Figure(on_lot.output, "issued"), 5) << on_lot.output;
  EXPECT_NE(on_lot.output.find("failed DEVICE_NOT_AUTHORIZED: 1"), std::string::npos) << on_lot.output;

  // Two of two officers, one at each station, let a device have a second certificate.
  auto first = officer("line-a", at_a, 1,
                       {"device", "approve-reissue", "--profile", "aws-iot-device", "--device-id", "board-0"});
  EXPECT_NE(first.output.find("1 of 2 approvals"), std::string::npos) << first.output;
  auto second = officer("line-b", at_b, 2,
                        {"device", "approve-reissue", "--profile", "aws-iot-device", "--device-id", "board-0"});
  EXPECT_NE(second.output.find("2 of 2 approvals"), std::string::npos) << second.output;

  // Each station restarts over rows the other's officers made: the fleet's
  // records vouch for them.
  ASSERT_EQ(a->Stop(SIGTERM), 0) << a->log();
  ASSERT_EQ(b->Stop(SIGTERM), 0) << b->log();
  for (const std::string station : {"line-a", "line-b"}) {
    auto [again, address] = start(station);
    ASSERT_FALSE(address.empty()) << station;
    ASSERT_EQ(again->Stop(SIGTERM), 0) << again->log();
    auto verify = Verify(station);
    EXPECT_EQ(verify.exit_code, 0) << station << ": " << verify.output;
  }
}

TEST_F(SharedStoreE2eTest, WhatOfficersChangeAtOneStationIsInForceAtTheOtherWithoutARestart) {
  Setup("line-a");
  Join("line-b", "line-a");
  // A second CA in the fleet's token, under its root list.
  const std::string ca2 = tmp_.path() + "/ca2.pem";
  auto keygen = Ctl({"ca", "keygen", "--config", Conf("line-a"), "--algo", "ec-p256", "--label", "station-ca-2"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
  auto cert = Ctl({"ca", "self-sign", "--config", Conf("line-a"), "--label", "station-ca-2", "--subject",
                   "CN=Station CA 2,O=Signing Station (development)", "--out", ca2});
  ASSERT_EQ(cert.exit_code, 0) << cert.output;
  auto roots = base::ReadFile(Dir("line-a") + "/ca/roots.pem");
  ASSERT_TRUE(roots.ok());
  ASSERT_TRUE(base::WriteFile(Dir("line-a") + "/ca/roots.pem", *roots + *base::ReadFile(ca2)).ok());

  testing::Background a(ServerCommand({"--config", Conf("line-a")}));
  testing::Background b(ServerCommand({"--config", Conf("line-b")}));
  const std::string at_a = a.WaitForListening(), at_b = b.WaitForListening();
  ASSERT_FALSE(at_a.empty()) << a.log();
  ASSERT_FALSE(at_b.empty()) << b.log();
  auto officer = [&](int n, std::vector<std::string> args) {
    args.insert(args.begin() + 2, {"--config", Dir("line-a") + (n == 1 ? "/officer.conf" : "/officer-2.conf"),
                                   "--target", at_a});
    return Ctl(args);
  };
  auto first = Simulate("line-b", at_b, 1, "first");
  ASSERT_EQ(Figure(first.output, "issued"), 1) << first.output;
  const std::string old_ca = Sql("SELECT issuer_key_id FROM issuance WHERE station_id = 'line-b'").output;

  // Officers at a rotate the CA: stage, activate, retire the old one.
  ASSERT_EQ(officer(1, {"ca", "stage", "--issuer", "station-ca", "--label", "station-ca-2", "--cert", ca2}).exit_code,
            0);
  for (int n : {1, 2}) ASSERT_EQ(officer(n, {"ca", "activate", "--ca", "station-ca-2"}).exit_code, 0);
  for (int n : {1, 2}) ASSERT_EQ(officer(n, {"ca", "retire", "--ca", "station-ca"}).exit_code, 0);
  const std::string new_ca = Sql("SELECT key_id FROM ca_state WHERE state = 'active'").output;
  ASSERT_NE(new_ca, old_ca);

  // Station b signs with the new CA within seconds, and never again with the retired one.
  bool rotated = false;
  for (int i = 0; i < 30 && !rotated; ++i) {
    auto one = Simulate("line-b", at_b, 1, "rot" + std::to_string(i));
    ASSERT_EQ(Figure(one.output, "issued"), 1) << one.output << b.log();
    rotated = Sql("SELECT issuer_key_id FROM issuance WHERE station_id = 'line-b' AND device_id = 'rot" +
                  std::to_string(i) + "-000000'").output == new_ca;
    if (!rotated) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ASSERT_TRUE(rotated) << b.log();
  auto after = Simulate("line-b", at_b, 5, "after");
  ASSERT_EQ(Figure(after.output, "issued"), 5) << after.output;
  auto old_uses = Sql("SELECT COUNT(*) FROM issuance WHERE station_id = 'line-b' AND device_id LIKE 'after%' AND "
                      "issuer_key_id <> '" + new_ca.substr(0, new_ca.find('\n')) + "'");
  EXPECT_EQ(std::stol(old_uses.output), 0) << old_uses.output;

  // Officers at a let only a's line use the profile: b's line is refused within seconds.
  auto a_issued = Simulate("line-a", at_a, 1, "a");
  ASSERT_EQ(Figure(a_issued.output, "issued"), 1) << a_issued.output;
  const std::string a_caller = Sql("SELECT caller FROM issuance WHERE station_id = 'line-a' LIMIT 1").output;
  for (int n : {1, 2}) {
    auto lines = officer(n, {"profile", "set-lines", "--profile", "aws-iot-device", "--lines",
                             a_caller.substr(0, a_caller.find('\n'))});
    ASSERT_EQ(lines.exit_code, 0) << lines.output;
  }
  bool refused = false;
  for (int i = 0; i < 30 && !refused; ++i) {
    auto one = Simulate("line-b", at_b, 1, "lines" + std::to_string(i));
    refused = one.output.find("failed PROFILE_NOT_ALLOWED: 1") != std::string::npos;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_TRUE(refused) << b.log();
  auto still_a = Simulate("line-a", at_a, 1, "a2");
  EXPECT_EQ(Figure(still_a.output, "issued"), 1) << still_a.output;

  ASSERT_EQ(a.Stop(SIGTERM), 0) << a.log();
  ASSERT_EQ(b.Stop(SIGTERM), 0) << b.log();
  EXPECT_EQ(Verify("line-a").exit_code, 0);
  EXPECT_EQ(Verify("line-b").exit_code, 0);
}

}  // namespace
}  // namespace station
