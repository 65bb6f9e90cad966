// Officers rotating the issuing CA of a running station through the Officer
// service, with two-person control, while a line keeps signing.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "station/base/files.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station {
namespace {

using testing::ProgramPath;
using testing::ServerCommand;
using testing::RunCommand;

class OfficerTest : public ::testing::Test {
 protected:
  std::string Dir() const { return tmp_.path() + "/dev"; }
  testing::CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), ProgramPath("stationctl"));
    return RunCommand(args);
  }
  // stationctl as officer-1 or officer-2 against the running server.
  testing::CommandResult AsOfficer(int n, std::vector<std::string> args) {
    args.insert(args.begin() + 2,
                {"--config", Dir() + (n == 1 ? "/officer.conf" : "/officer-2.conf"), "--target", address_});
    return Ctl(args);
  }
  testing::CommandResult Simulate(const std::string& address, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {ProgramPath("station-line"), "--config", Dir() + "/line.conf", "--target",
                                     address, "simulate", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCommand(args);
  }
  // The key id `ca list` shows for the CA whose key is `label`, and its state.
  std::pair<std::string, std::string> Listed(const std::string& listing, const std::string& label) {
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string issuer, key_label, state, key_id;
      words >> issuer >> key_label >> state >> key_id;
      if (key_label == label) return {key_id, state};
    }
    return {"", ""};
  }
  testing::TempDir tmp_;
  std::string address_;
};

TEST_F(OfficerTest, TwoOfficersRotateTheIssuingCaUnderALiveLine) {
  ASSERT_EQ(Ctl({"dev-setup", "--dir", Dir(), "--listen", "127.0.0.1:0"}).exit_code, 0);
  const std::string conf = Dir() + "/station.conf";
  // The next CA: a key made in the token, and (in this lab) a self-signed
  // certificate the station is told to trust as a root.
  auto keygen = Ctl({"ca", "keygen", "--config", conf, "--algo", "ec-p256", "--label", "station-ca-2"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
  auto cert = Ctl({"ca", "self-sign", "--config", conf, "--label", "station-ca-2", "--subject",
                   "CN=Station CA 2,O=Signing Station (development)", "--out", tmp_.path() + "/ca2.pem"});
  ASSERT_EQ(cert.exit_code, 0) << cert.output;
  {
    std::ofstream roots(Dir() + "/ca/roots.pem", std::ios::app);
    roots << *base::ReadFile(tmp_.path() + "/ca2.pem");
  }

  testing::Background server(ServerCommand({"--config", conf}));
  std::string address = address_ = server.WaitForListening();
  ASSERT_FALSE(address.empty()) << server.log();
  auto before = AsOfficer(1, {"ca", "list"});
  ASSERT_EQ(before.exit_code, 0) << before.output;
  auto [old_id, old_state] = Listed(before.output, "station-ca");
  ASSERT_EQ(old_state, "active") << before.output;

  // A line is not an officer; an officer is not a line.
  auto line_as_officer = Ctl({"ca", "list", "--config", Dir() + "/line.conf", "--target", address});
  EXPECT_NE(line_as_officer.output.find("ROLE_NOT_ALLOWED"), std::string::npos) << line_as_officer.output;

  // The line runs ~8 s at a steady rate while the officers rotate.
  testing::CommandResult during;
  std::thread line([&] { during = Simulate(address, {"--devices", "2400", "--streams", "4", "--rate", "300"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  auto staged = AsOfficer(1, {"ca", "stage", "--issuer", "station-ca", "--label", "station-ca-2", "--cert",
                              tmp_.path() + "/ca2.pem"});
  EXPECT_EQ(staged.exit_code, 0) << staged.output;
  auto first = AsOfficer(1, {"ca", "activate", "--ca", "station-ca-2"});
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("1 of 2 approvals"), std::string::npos) << first.output;
  auto again = AsOfficer(1, {"ca", "activate", "--ca", "station-ca-2"});
  EXPECT_NE(again.output.find("1 of 2 approvals (officer-1)"), std::string::npos) << again.output;  // counts once
  auto second = AsOfficer(2, {"ca", "activate", "--ca", "station-ca-2"});
  EXPECT_NE(second.output.find("2 of 2 approvals (officer-1, officer-2), done"), std::string::npos) << second.output;
  EXPECT_EQ(AsOfficer(2, {"ca", "retire", "--ca", "station-ca"}).exit_code, 0);
  auto retired = AsOfficer(1, {"ca", "retire", "--ca", "station-ca"});
  EXPECT_NE(retired.output.find(", done"), std::string::npos) << retired.output;
  line.join();

  // No request failed, every certificate verifies under the CA it came with
  // and names that CA's key; both CAs signed some.
  ASSERT_EQ(during.exit_code, 0) << during.output;
  EXPECT_NE(during.output.find("\"failed\":0,"), std::string::npos) << during.output;
  EXPECT_NE(during.output.find("\"verified\":2400,\"verify_failures\":0"), std::string::npos) << during.output;
  auto after = AsOfficer(1, {"ca", "list"});
  auto [new_id, new_state] = Listed(after.output, "station-ca-2");
  EXPECT_EQ(new_state, "active") << after.output;
  EXPECT_EQ(Listed(after.output, "station-ca").second, "retired") << after.output;
  EXPECT_NE(during.output.find("\"" + old_id + "\":"), std::string::npos) << during.output;
  EXPECT_NE(during.output.find("\"" + new_id + "\":"), std::string::npos) << during.output;

  // After retirement only the new key signs, and it survives a restart.
  auto later = Simulate(address, {"--devices", "100", "--streams", "2"});
  EXPECT_NE(later.output.find("\"by_issuer_key_id\":{\"" + new_id + "\":100}"), std::string::npos) << later.output;
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  testing::Background restarted(ServerCommand({"--config", conf}));
  address = address_ = restarted.WaitForListening();
  ASSERT_FALSE(address.empty()) << restarted.log();
  auto listed = AsOfficer(2, {"ca", "list"});
  EXPECT_EQ(Listed(listed.output, "station-ca-2").second, "active") << listed.output;
  // The same for machines: one JSON document.
  auto json = AsOfficer(2, {"ca", "list", "--format", "json"});
  ASSERT_TRUE(base::WriteFile(tmp_.path() + "/cas.json", json.output).ok());
  auto parsed = RunCommand({"/usr/bin/python3", "-c",
                            "import json,sys; cas=json.load(open(sys.argv[1])); "
                            "print(sorted((c['key_label'], c['state']) for c in cas))",
                            tmp_.path() + "/cas.json"});
  EXPECT_NE(parsed.output.find("('station-ca', 'retired'), ('station-ca-2', 'active')"), std::string::npos)
      << json.output << parsed.output;
  EXPECT_EQ(Listed(listed.output, "station-ca").second, "retired") << listed.output;
  auto restarted_line = Simulate(address, {"--devices", "50", "--streams", "1"});
  EXPECT_NE(restarted_line.output.find("\"by_issuer_key_id\":{\"" + new_id + "\":50}"), std::string::npos)
      << restarted_line.output;
  EXPECT_EQ(restarted.Stop(SIGTERM), 0);

  // The officers' actions are records of the verified log; exports hold certificates only.
  auto verify = Ctl({"audit", "verify", "--config", conf});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  // 2550 issued + 6 officer records (stage, three activate approvals, two retire approvals).
  EXPECT_NE(verify.output.find("2556 records"), std::string::npos) << verify.output;
  auto exported = Ctl({"audit", "export", "--config", conf, "--format", "jsonl", "--out", tmp_.path() + "/all.jsonl"});
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  std::ifstream jsonl(tmp_.path() + "/all.jsonl");
  size_t rows = 0;
  for (std::string row; std::getline(jsonl, row);) rows += row.find("\"certificate_pem\"") != std::string::npos;
  EXPECT_EQ(rows, 2550u);
}

}  // namespace
}  // namespace station
