// stationctl store migrate, end to end: a station that ran on SQLite (issued,
// minted codes, imported a lot, had officers approve) moves its log into a
// real PostgreSQL, which then verifies with the same root and checkpoints;
// the station continues it there and still refuses what the moved records
// took. And what a move must refuse: a broken log, a station id in use or
// taken, a history that overlaps the fleet's, a log that moved before.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>

#include "station/base/files.h"
#include "station/config/config.h"
#include "tests/support/dev_postgres.h"
#include "tests/support/subprocess.h"

namespace station {
namespace {

using testing::Figure;
using testing::ProgramPath;
using testing::RunCommand;
using testing::ServerCommand;

// "(latest: 42 records, root ab12...)" from audit verify or migrate.
std::string Latest(const std::string& output) {
  const size_t at = output.find("(latest: ");
  return at == std::string::npos ? "" : output.substr(at, output.find(')', at) - at);
}

class StoreMigrateTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pg_.ok()) << pg_.error(); }

  std::string Dir(const std::string& station) const { return tmp_.path() + "/" + station; }
  std::string Conf(const std::string& station) const { return Dir(station) + "/station.conf"; }
  std::string StateDir(const std::string& station) const {
    auto config = config::LoadStationConfig(Conf(station));
    return config.ok() ? config->state_dir : "";
  }

  testing::CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), ProgramPath("stationctl"));
    return RunCommand(args);
  }

  void SetupSqlite(const std::string& station) {
    auto r = Ctl({"dev-setup", "--dir", Dir(station), "--listen", "127.0.0.1:0"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  testing::CommandResult Simulate(const std::string& station, const std::string& address, int devices,
                                  const std::string& prefix, const std::string& profile = "aws-iot-device",
                                  const std::string& attributes = "") {
    std::vector<std::string> args = {ProgramPath("station-line"), "--config", Dir(station) + "/line.conf",
                                     "--target", address, "simulate", "--devices", std::to_string(devices),
                                     "--profile", profile, "--device-prefix", prefix, "--timeout", "60"};
    if (!attributes.empty()) args.insert(args.end(), {"--attributes", attributes});
    return RunCommand(args);
  }

  // Moves `station`'s SQLite log to the store as `id`, with its config's audit key.
  testing::CommandResult Migrate(const std::string& station, const std::string& id) {
    return Ctl({"store", "migrate", "--from-sqlite", StateDir(station), "--config", Conf(station), "--to", pg_.url(),
                "--password-file", pg_.password_file(), "--station-id", id});
  }

  testing::CommandResult Sql(const std::string& sql) { return pg_.Sql(sql); }

  // A SQLite station that issued and whose officers acted: every table a move copies has rows.
  void RunAWhile(const std::string& station, const std::string& prefix) {
    // A second CA for the officers to stage and activate, under the station's root list.
    const std::string ca2 = Dir(station) + "/ca2.pem";
    auto keygen = Ctl({"ca", "keygen", "--config", Conf(station), "--algo", "ec-p256", "--label", "station-ca-2"});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
    auto cert = Ctl({"ca", "self-sign", "--config", Conf(station), "--label", "station-ca-2", "--subject",
                     "CN=Station CA 2,O=Signing Station (development)", "--out", ca2});
    ASSERT_EQ(cert.exit_code, 0) << cert.output;
    auto roots = base::ReadFile(Dir(station) + "/ca/roots.pem");
    ASSERT_TRUE(roots.ok());
    ASSERT_TRUE(base::WriteFile(Dir(station) + "/ca/roots.pem", *roots + *base::ReadFile(ca2)).ok());

    testing::Background server(ServerCommand({"--config", Conf(station)}));
    const std::string address = server.WaitForListening();
    ASSERT_FALSE(address.empty()) << server.log();
    auto officer = [&](int n, std::vector<std::string> args) {
      args.insert(args.begin() + 2, {"--config", Dir(station) + (n == 1 ? "/officer.conf" : "/officer-2.conf"),
                                     "--target", address});
      return Ctl(args);
    };
    auto issued = Simulate(station, address, 10, prefix);
    ASSERT_EQ(Figure(issued.output, "issued"), 10) << issued.output;

    const std::string codes = Dir(station) + "/codes.csv";
    auto mint = officer(1, {"codes", "mint", "--profile", "fleet-claim", "--count", "2", "--out", codes});
    ASSERT_EQ(mint.exit_code, 0) << mint.output;
    auto csv = RunCommand({"/bin/bash", "-c", "sed -n 2p " + codes + " | cut -d, -f1"});
    const std::string code = csv.output.substr(0, csv.output.find('\n'));
    auto claim = Simulate(station, address, 1, prefix + "claim", "fleet-claim", "registration_code=" + code);
    ASSERT_EQ(Figure(claim.output, "issued"), 1) << claim.output;

    std::string lot = "device_id\n";
    for (int i = 0; i < 3; ++i) lot += prefix + "lot-00000" + std::to_string(i) + "\n";
    ASSERT_TRUE(base::WriteFile(Dir(station) + "/lot.csv", lot).ok());
    auto import = officer(1, {"lot", "import", "--profile", "matter-dac", "--lot", prefix + "lot",
                              Dir(station) + "/lot.csv"});
    ASSERT_EQ(import.exit_code, 0) << import.output;
    auto on_lot = Simulate(station, address, 3, prefix + "lot", "matter-dac", "vendor_id=FFF1,product_id=8000");
    ASSERT_EQ(Figure(on_lot.output, "issued"), 3) << on_lot.output;

    auto staged = officer(1, {"ca", "stage", "--issuer", "station-ca", "--label", "station-ca-2", "--cert", ca2});
    ASSERT_EQ(staged.exit_code, 0) << staged.output;
    for (int n : {1, 2}) {
      auto activate = officer(n, {"ca", "activate", "--ca", "station-ca-2"});
      ASSERT_EQ(activate.exit_code, 0) << activate.output;
      auto approve = officer(n, {"device", "approve-reissue", "--profile", "aws-iot-device", "--device-id", prefix + "-000000"});
      ASSERT_EQ(approve.exit_code, 0) << approve.output;
      auto lines = officer(n, {"profile", "set-lines", "--profile", "matter-dac", "--lines", "line-x,line-y"});
      ASSERT_EQ(lines.exit_code, 0) << lines.output;
    }
    ASSERT_EQ(server.Stop(SIGTERM), 0) << server.log();
  }

  testing::DevPostgres pg_;
  testing::TempDir tmp_;
};

TEST_F(StoreMigrateTest, TheMovedLogVerifiesThereAndTheStationContinuesIt) {
  SetupSqlite("a");
  RunAWhile("a", "board");
  auto before = Ctl({"audit", "verify", "--config", Conf("a")});
  ASSERT_EQ(before.exit_code, 0) << before.output;
  const std::string latest = Latest(before.output);
  ASSERT_FALSE(latest.empty()) << before.output;

  auto moved = Migrate("a", "line-a");
  ASSERT_EQ(moved.exit_code, 0) << moved.output;
  EXPECT_NE(moved.output.find("14 issuances"), std::string::npos) << moved.output;
  EXPECT_NE(moved.output.find(latest), std::string::npos) << moved.output;  // the same size and root

  // The SQLite file is read, never written again.
  const std::string sqlite_conf = Dir("a") + "/sqlite.conf";
  auto original = base::ReadFile(Conf("a"));
  ASSERT_TRUE(original.ok());
  ASSERT_TRUE(base::WriteFile(sqlite_conf, *original).ok());
  testing::Background stale(ServerCommand({"--config", sqlite_conf}));
  EXPECT_EQ(stale.WaitForListening(20), "");
  EXPECT_NE(stale.log().find("STORE_MOVED"), std::string::npos) << stale.log();
  auto again = Migrate("a", "line-a2");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("STORE_MOVED"), std::string::npos) << again.output;
  EXPECT_EQ(Ctl({"audit", "verify", "--config", sqlite_conf}).exit_code, 0);

  // The station on the store: the same log, and what its records took stays taken.
  ASSERT_TRUE(base::WriteFile(Conf("a"), *original + "\n" + pg_.ConfigSection("line-a")).ok());
  auto there = Ctl({"audit", "verify", "--config", Conf("a")});
  ASSERT_EQ(there.exit_code, 0) << there.output;
  EXPECT_NE(there.output.find(latest), std::string::npos) << there.output;
  {
    testing::Background server(ServerCommand({"--config", Conf("a")}));
    const std::string address = server.WaitForListening();
    ASSERT_FALSE(address.empty()) << server.log();
    auto repeat = Simulate("a", address, 10, "board");
    EXPECT_NE(repeat.output.find("failed DUPLICATE_DEVICE: 9"), std::string::npos) << repeat.output;
    EXPECT_EQ(Figure(repeat.output, "issued"), 1) << repeat.output;  // board-000000: the officers' reissue
    auto fresh = Simulate("a", address, 5, "later");
    EXPECT_EQ(Figure(fresh.output, "issued"), 5) << fresh.output;
    ASSERT_EQ(server.Stop(SIGTERM), 0) << server.log();
  }
  auto after = Ctl({"audit", "verify", "--config", Conf("a")});
  EXPECT_EQ(after.exit_code, 0) << after.output;
  auto count = Sql("SELECT COUNT(*) FROM issuance WHERE station_id = 'line-a'");
  EXPECT_EQ(std::stol(count.output), 20) << count.output;
}

TEST_F(StoreMigrateTest, AMoveThatWouldBreakTheFleetIsRefusedAndWritesNothing) {
  SetupSqlite("a");
  RunAWhile("a", "board");
  // Station b of another fleet on the store, which certified one of a's devices.
  auto setup_b = Ctl({"dev-setup", "--dir", Dir("b"), "--listen", "127.0.0.1:0", "--store", pg_.url(),
                      "--store-password-file", pg_.password_file(), "--station-id", "line-b"});
  ASSERT_EQ(setup_b.exit_code, 0) << setup_b.output;
  {
    testing::Background a(ServerCommand({"--config", Conf("a")}));  // a runs: its file cannot move
    ASSERT_FALSE(a.WaitForListening().empty()) << a.log();
    auto running = Migrate("a", "line-a");
    EXPECT_EQ(running.exit_code, 1);
    EXPECT_NE(running.output.find("AUDIT_LOG_IN_USE"), std::string::npos) << running.output;
    ASSERT_EQ(a.Stop(SIGTERM), 0) << a.log();
    testing::Background b(ServerCommand({"--config", Conf("b")}));
    const std::string address = b.WaitForListening();
    ASSERT_FALSE(address.empty()) << b.log();
    auto issued = Simulate("b", address, 1, "board");
    ASSERT_EQ(Figure(issued.output, "issued"), 1) << issued.output;

    auto in_use = Migrate("a", "line-b");  // b runs
    EXPECT_EQ(in_use.exit_code, 1);
    EXPECT_NE(in_use.output.find("STATION_ID_IN_USE"), std::string::npos) << in_use.output;
    ASSERT_EQ(b.Stop(SIGTERM), 0) << b.log();
  }
  auto taken = Migrate("a", "line-b");
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.output.find("STORE_NOT_EMPTY"), std::string::npos) << taken.output;

  auto twice = Migrate("a", "line-a");
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.output.find("MOVE_CONFLICT"), std::string::npos) << twice.output;
  EXPECT_NE(twice.output.find("device 'board-000000'"), std::string::npos) << twice.output;
  EXPECT_NE(twice.output.find("station line-b"), std::string::npos) << twice.output;
  auto rows = Sql("SELECT (SELECT COUNT(*) FROM issuance WHERE station_id = 'line-a') + (SELECT COUNT(*) FROM "
                  "officer_action WHERE station_id = 'line-a') + (SELECT COUNT(*) FROM lot)");
  EXPECT_EQ(std::stol(rows.output), 0) << rows.output;

  // A second fleet's officers set matter-dac's lines: a's line set for it cannot join them.
  auto own = Sql("INSERT INTO profile_lines VALUES ('matter-dac', 'x', 'line-b', 99)");
  ASSERT_EQ(own.exit_code, 0) << own.output;
  ASSERT_EQ(Sql("DELETE FROM issuance WHERE station_id = 'line-b'").exit_code, 0);
  auto lines = Migrate("a", "line-a");
  EXPECT_NE(lines.output.find("MOVE_CONFLICT: profile_lines 'matter-dac'"), std::string::npos) << lines.output;
  ASSERT_EQ(Sql("DELETE FROM profile_lines").exit_code, 0);

  // A log changed behind the station's back does not move.
  const std::string db = StateDir("a") + "/audit.db";
  auto forged = RunCommand({"/bin/bash", "-c",
                            "python3 -c \"import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("
                            "'UPDATE issuance SET device_id = \\'forged\\' WHERE seq = 3'); c.commit()\" " + db});
  ASSERT_EQ(forged.exit_code, 0) << forged.output;
  auto broken = Migrate("a", "line-a");
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.output.find("AUDIT_LOG_BROKEN"), std::string::npos) << broken.output;
  auto none = Sql("SELECT COUNT(*) FROM issuance WHERE station_id = 'line-a'");
  EXPECT_EQ(std::stol(none.output), 0) << none.output;

  // Without the audit key nothing is checked, so nothing moves.
  auto unkeyed = Ctl({"store", "migrate", "--from-sqlite", StateDir("a"), "--to", pg_.url(), "--station-id", "x"});
  EXPECT_EQ(unkeyed.exit_code, 2) << unkeyed.output;
  EXPECT_NE(unkeyed.output.find("--public-key"), std::string::npos) << unkeyed.output;
}

}  // namespace
}  // namespace station
