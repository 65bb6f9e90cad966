// The audit log as an auditor and the cloud side use it: stationctl audit
// verify / prove / check-proof / export against a station that really issued,
// the server failing closed on a broken log, and init-key for a new log.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "station/base/files.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station {
namespace {

using testing::ProgramPath;
using testing::ServerCommand;
using testing::RunCommand;

std::string Read(const std::string& path) {
  auto text = base::ReadFile(path, 64 << 20);
  EXPECT_TRUE(text.ok()) << path;
  return text.ok() ? *text : "";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Ctl({"dev-setup", "--dir", Dir(), "--listen", "127.0.0.1:0"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  std::string Dir() const { return tmp_.path() + "/dev"; }
  std::string Conf() const { return Dir() + "/station.conf"; }
  testing::CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), ProgramPath("stationctl"));
    return RunCommand(args);
  }
  // Runs a line of `devices` AWS IoT things (or what `simulate` flags say)
  // through a server, then stops it (SIGTERM: the server signs a last checkpoint).
  void Issue(size_t devices, std::vector<std::string> simulate = {"--profile", "aws-iot-device", "--thing-type",
                                                                   "sensor", "--thing-attributes", "model=x1,batch=7"}) {
    testing::Background server(ServerCommand({"--config", Conf()}));
    std::string address = server.WaitForListening();
    ASSERT_FALSE(address.empty()) << server.log();
    std::vector<std::string> sim_args{ProgramPath("station-line"), "--config", Dir() + "/line.conf", "--target",
                                      address, "simulate", "--devices", std::to_string(devices), "--streams", "2"};
    sim_args.insert(sim_args.end(), simulate.begin(), simulate.end());
    auto sim = RunCommand(sim_args);
    ASSERT_EQ(sim.exit_code, 0) << sim.output;
    ASSERT_EQ(server.Stop(SIGTERM), 0) << server.log();
  }
  testing::CommandResult Sqlite(const std::string& sql) {
    return RunCommand({"/usr/bin/sqlite3", Dir() + "/state/audit.db", sql});
  }
  testing::TempDir tmp_;
};

TEST_F(AuditCliTest, VerifyProveAndCheckProofOffline) {
  Issue(40);
  auto verify = Ctl({"audit", "verify", "--config", Conf()});
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("40 records"), std::string::npos) << verify.output;
  EXPECT_NE(verify.output.find("1 signed checkpoints verified (latest: 40 records"), std::string::npos)
      << verify.output;
  auto serial = Sqlite("SELECT serial_hex FROM issuance WHERE seq = 17");
  ASSERT_EQ(serial.exit_code, 0) << serial.output;
  std::string hex = serial.output.substr(0, serial.output.find('\n'));
  auto prove = Ctl({"audit", "prove", "--config", Conf(), "--serial", hex, "--out", tmp_.path() + "/proof"});
  ASSERT_EQ(prove.exit_code, 0) << prove.output;
  // Offline: only the proof and the audit public key.
  auto check = Ctl({"audit", "check-proof", "--public-key", Dir() + "/audit-key.pem", "--serial", hex,
                    tmp_.path() + "/proof"});
  ASSERT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("proof OK: serial " + hex), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("is record 17 of 40"), std::string::npos) << check.output;
  // One changed byte in the audit path, or the wrong key, and it fails.
  std::string proof = Read(tmp_.path() + "/proof");
  size_t at = proof.find("\npath ") + 8;
  proof[at] = proof[at] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(base::WriteFile(tmp_.path() + "/forged", proof).ok());
  auto forged = Ctl({"audit", "check-proof", "--public-key", Dir() + "/audit-key.pem", tmp_.path() + "/forged"});
  EXPECT_EQ(forged.exit_code, 1);
  EXPECT_NE(forged.output.find("PROOF_INVALID"), std::string::npos) << forged.output;
  auto wrong_key = Ctl({"audit", "check-proof", "--public-key", Dir() + "/ca/ca.pem", tmp_.path() + "/proof"});
  EXPECT_NE(wrong_key.exit_code, 0) << wrong_key.output;
}

TEST_F(AuditCliTest, ServerFailsClosedOnABrokenLog) {
  Issue(30);
  ASSERT_EQ(Sqlite("DELETE FROM issuance WHERE seq > 25").exit_code, 0);
  auto verify = Ctl({"audit", "verify", "--config", Conf()});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.output.find("BROKEN (truncated) at record 26"), std::string::npos) << verify.output;
  auto server = RunCommand(ServerCommand({"--config", Conf()}), 60);
  EXPECT_EQ(server.exit_code, 65) << server.output;  // EX_DATAERR: kept from restarting
  EXPECT_NE(server.output.find("AUDIT_LOG_BROKEN"), std::string::npos) << server.output;
  EXPECT_NE(server.output.find("log cut back"), std::string::npos) << server.output;
  EXPECT_NE(server.output.find("stationctl audit verify"), std::string::npos) << server.output;
}

TEST_F(AuditCliTest, ExportsAreCompleteIncrementalAndRepeatable) {
  Issue(30);
  auto run = [&](const std::string& format, const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"audit", "export", "--config", Conf(), "--format", format, "--out", out};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r;
  };
  const std::string t = tmp_.path();
  run("jsonl", t + "/all.jsonl");
  run("jsonl", t + "/again.jsonl");
  std::string all = Read(t + "/all.jsonl");
  EXPECT_EQ(Count(all, "\n"), 30u);
  EXPECT_EQ(all, Read(t + "/again.jsonl")) << "the same range gives the same bytes";
  EXPECT_EQ(all.rfind("{\"seq\":1,", 0), 0u);
  EXPECT_NE(all.find("\"thing_type\":\"sensor\""), std::string::npos);
  // The checkpoint it was made against, beside it, as a signed C2SP note.
  std::string note = Read(t + "/all.jsonl.checkpoint");
  EXPECT_NE(note.find("\n30\n"), std::string::npos) << note;
  EXPECT_NE(note.find("\n\n\xe2\x80\x94 "), std::string::npos) << note;

  run("jsonl", t + "/tail.jsonl", {"--since-seq", "25"});
  std::string tail = Read(t + "/tail.jsonl");
  EXPECT_EQ(Count(tail, "\n"), 5u);
  EXPECT_EQ(tail.rfind("{\"seq\":26,", 0), 0u) << tail.substr(0, 40);
  EXPECT_EQ(all.substr(all.size() - tail.size()), tail) << "an increment is the end of the whole";

  run("csv", t + "/all.csv");
  std::string csv = Read(t + "/all.csv");
  EXPECT_EQ(csv.rfind("seq,time_unix_ms,request_id,", 0), 0u);
  EXPECT_EQ(Count(csv, "-----END CERTIFICATE-----"), 30u);

  run("aws-jitr-allowlist", t + "/allow.jsonl");
  std::string allow = Read(t + "/allow.jsonl");
  EXPECT_EQ(Count(allow, "{\"Item\":{\"serial\":{\"S\":\""), 30u);
  EXPECT_NE(allow.find("\"thingType\":{\"S\":\"sensor\"}"), std::string::npos) << allow.substr(0, 600);
  EXPECT_NE(allow.find("\"attributes\":{\"M\":{\"batch\":{\"S\":\"7\"},\"model\":{\"S\":\"x1\"}}}"), std::string::npos)
      << allow.substr(0, 600);

  run("aws-bulk", t + "/bulk", {"--policy-name", "device-policy"});
  EXPECT_EQ(Count(Read(t + "/bulk/registration.ndjson"), "\n"), 30u);
  EXPECT_EQ(Read(t + "/bulk/checkpoint"), note);
  auto again = Ctl({"audit", "export", "--config", Conf(), "--format", "aws-bulk", "--out", t + "/bulk",
                    "--policy-name", "device-policy"});
  EXPECT_NE(again.exit_code, 0) << "an export never overwrites";
}

// What AWS IoT takes: the allow-list holds only JITR devices, and a bulk
// export is AWS's own NDJSON and template (checked by check_aws_bulk.py),
// refused whole where one task could not register every line.
TEST_F(AuditCliTest, AwsExportsHoldOnlyWhatAwsTakes) {
  Issue(6);
  Issue(2, {"--profile", "ieee-802.1ar-idevid"});  // no thing, not for JITR
  const std::string t = tmp_.path();
  auto expect_refused = [&](std::vector<std::string> args, const std::string& reason) {
    args.insert(args.begin(), {"audit", "export", "--config", Conf()});
    auto r = Ctl(args);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(reason), std::string::npos) << r.output;
  };
  ASSERT_EQ(Ctl({"audit", "export", "--config", Conf(), "--format", "aws-jitr-allowlist", "--out", t + "/allow"})
                .exit_code, 0);
  std::string allow = Read(t + "/allow");
  EXPECT_EQ(Count(allow, "\"jitr\":{\"BOOL\":true}"), 6u) << allow;
  EXPECT_EQ(Count(allow, "\n"), 6u) << "the IDevIDs are no JITR devices";
  expect_refused({"--format", "aws-jitr-allowlist", "--profile", "ieee-802.1ar-idevid"}, "PROFILE_NOT_JITR");

  // The IDevIDs' things are named by their device ids, but have no type or attributes.
  expect_refused({"--format", "aws-bulk", "--out", t + "/b1", "--policy-name", "p"}, "BULK_MIXED_THINGS");
  expect_refused({"--format", "aws-bulk", "--out", t + "/b1", "--profile", "aws-iot-device"}, "USAGE");
  expect_refused({"--format", "aws-bulk", "--out", t + "/b1", "--profile", "aws-iot-device", "--policy-name",
                  "bad policy"}, "USAGE");
  EXPECT_FALSE(std::filesystem::exists(t + "/b1")) << "nothing is written when refused";
  auto bulk = Ctl({"audit", "export", "--config", Conf(), "--format", "aws-bulk", "--out", t + "/bulk",
                   "--profile", "aws-iot-device", "--policy-name", "device-policy"});
  ASSERT_EQ(bulk.exit_code, 0) << bulk.output;
  EXPECT_NE(bulk.output.find("aws iot start-thing-registration-task --template-body file://" + t +
                             "/bulk/template.json"), std::string::npos) << bulk.output;
  ASSERT_EQ(Ctl({"audit", "export", "--config", Conf(), "--format", "jsonl", "--out", t + "/all.jsonl"}).exit_code, 0);
  auto check = RunCommand({"/usr/bin/python3", "-B", std::string(STATION_SOURCE_DIR) + "/tests/e2e/check_aws_bulk.py",
                           t + "/bulk", t + "/all.jsonl"});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("6 lines"), std::string::npos) << check.output;

  // Things without a type next to things with one: no single template fits.
  Issue(2, {"--profile", "aws-iot-device"});
  expect_refused({"--format", "aws-bulk", "--out", t + "/b2", "--profile", "aws-iot-device", "--policy-name", "p"},
                 "BULK_MIXED_THINGS");
  const std::string note = Read(t + "/bulk/checkpoint");  // origin, then the tree size
  const size_t size_at = note.find('\n') + 1;
  const std::string before = note.substr(size_at, note.find('\n', size_at) - size_at);
  auto tail = Ctl({"audit", "export", "--config", Conf(), "--format", "aws-bulk", "--out", t + "/b3",
                   "--profile", "aws-iot-device", "--policy-name", "p", "--since-seq", before});
  EXPECT_EQ(tail.exit_code, 0) << tail.output;
  EXPECT_EQ(Count(Read(t + "/b3/registration.ndjson"), "\n"), 2u);
  EXPECT_EQ(Read(t + "/b3/template.json").find("ThingTypeName"), std::string::npos) << Read(t + "/b3/template.json");
}

// --format json: the listings and the verdict as one JSON document each.
TEST_F(AuditCliTest, ListingsAndTheVerdictComeAsJsonForMachines) {
  Issue(3);
  auto parse = [&](std::vector<std::string> args, const std::string& expr) {
    auto r = Ctl(args);
    EXPECT_TRUE(base::WriteFile(tmp_.path() + "/out.json", r.output).ok());
    auto p = RunCommand({"/usr/bin/python3", "-c", "import json,sys; d=json.load(open(sys.argv[1])); print(" + expr + ")",
                         tmp_.path() + "/out.json"});
    EXPECT_EQ(p.exit_code, 0) << r.output << p.output;
    return r.exit_code == 0 ? p.output : "exit " + std::to_string(r.exit_code) + ": " + r.output;
  };
  EXPECT_EQ(parse({"audit", "verify", "--config", Conf(), "--format", "json"},
                  "d['intact'], d['records'], d['latest']['size'], d['checkpoints_checked']"),
            "True 3 3 True\n");
  EXPECT_EQ(parse({"profile", "list", "--config", Conf(), "--format", "json"},
                  "[(p['name'], p['aws_jitr'], p['lines']) for p in d if p['name'] == 'aws-iot-device']"),
            "[('aws-iot-device', True, ['*'])]\n");
  EXPECT_EQ(parse({"lot", "list", "--config", Conf(), "--format", "json"}, "d"), "[]\n");
  auto wrong = Ctl({"lot", "list", "--config", Conf(), "--format", "yaml"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;

  // A broken log says what and where, as JSON too, and exits 1.
  Sqlite("UPDATE issuance SET device_id = 'forged' WHERE seq = 2");
  auto broken = Ctl({"audit", "verify", "--config", Conf(), "--format", "json"});
  EXPECT_EQ(broken.exit_code, 1) << broken.output;
  ASSERT_TRUE(base::WriteFile(tmp_.path() + "/broken.json", broken.output).ok());
  auto p = RunCommand({"/usr/bin/python3", "-c",
                       "import json,sys; d=json.load(open(sys.argv[1])); print(d['intact'], d['problem']['seq'])",
                       tmp_.path() + "/broken.json"});
  EXPECT_EQ(p.output, "False 2\n") << broken.output;
}

TEST_F(AuditCliTest, InitKeyMakesTheKeyAStationNeedsToStart) {
  // A config without [audit]: the server refuses to start without its key.
  std::string conf = Read(Conf());
  conf = conf.substr(0, conf.find("[audit]"));
  conf.replace(conf.find("state_dir = \"state\""), 19, "state_dir = \"state2\"");
  ASSERT_TRUE(base::WriteFile(Dir() + "/second.conf", conf).ok());
  auto refused = RunCommand(ServerCommand({"--config", Dir() + "/second.conf"}), 60);
  EXPECT_EQ(refused.exit_code, 78);  // EX_CONFIG
  EXPECT_NE(refused.output.find("AUDIT_KEY_NOT_CONFIGURED"), std::string::npos) << refused.output;
  auto init = Ctl({"audit", "init-key", "--config", Dir() + "/second.conf", "--label", "audit-2", "--origin",
                   "test.invalid/second", "--public-key", Dir() + "/second-audit.pem"});
  ASSERT_EQ(init.exit_code, 0) << init.output;
  EXPECT_NE(init.output.find("verifier key: test.invalid/second+"), std::string::npos) << init.output;
  ASSERT_NE(init.output.find("[audit]\n"), std::string::npos) << init.output;
  conf += init.output.substr(init.output.find("[audit]\n"));
  ASSERT_TRUE(base::WriteFile(Dir() + "/second.conf", conf).ok());
  testing::Background server(ServerCommand({"--config", Dir() + "/second.conf"}));
  EXPECT_FALSE(server.WaitForListening().empty()) << server.log();
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  // The key is configured now: init-key will not make a second one for this log.
  auto twice = Ctl({"audit", "init-key", "--config", Dir() + "/second.conf"});
  EXPECT_NE(twice.output.find("AUDIT_KEY_CONFIGURED"), std::string::npos) << twice.output;
}

}  // namespace
}  // namespace station
