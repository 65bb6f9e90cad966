// Two-person control on a real station (SoftHSM token, audit log): actions
// need k distinct officers within the approval time, approvals are used up
// by the action they carry out, and each one is an audit record.
#include <gtest/gtest.h>

#include <thread>

#include <unistd.h>

#include "station/audit/verify.h"
#include "station/base/files.h"
#include "station/runtime/audit_signer.h"
#include "station/store/sqlite_store.h"
#include "tests/station/officer/officer_station.h"
#include "tests/support/audit_db.h"

namespace station::officer {
namespace {

class ApprovalsTest : public testing::OfficerStationTest {
 protected:
  // Stages the dev station's Matter PAA (a CA key of the same token, under [ca] root) as the next CA.
  void StageNext() {
    auto pem = base::ReadFile(dev_->setup.matter_paa_cert);
    ASSERT_TRUE(pem.ok());
    auto staged = desk().StageCa("officer-1", "station-ca", "matter-paa", *pem);
    ASSERT_TRUE(staged.ok()) << staged.error().ToString();
    EXPECT_EQ(staged->ca.state, issuance::CaState::kStaged);
  }
  ApprovalStatus Approve(const std::string& officer, const Action& action) {
    auto status = desk().Approve(officer, action);
    EXPECT_TRUE(status.ok()) << status.error().ToString();
    return status.ok() ? *status : ApprovalStatus{};
  }
};

TEST_F(ApprovalsTest, ActivationNeedsTwoDistinctOfficersAndUsesTheirApprovalsUp) {
  Open();
  auto outsider = desk().ListCas("mallory", "");
  ASSERT_FALSE(outsider.ok());
  EXPECT_EQ(outsider.error().reason, "OFFICER_NOT_MEMBER");
  StageNext();
  const std::string old_id = station_->ca()->key_id_hex();
  const Action activate = ActivateCa{{"", "matter-paa"}, 0};

  ApprovalStatus one = Approve("officer-1", activate);
  EXPECT_FALSE(one.executed);
  EXPECT_EQ(one.approvers, std::vector<std::string>{"officer-1"});
  EXPECT_EQ(station_->ca()->key_id_hex(), old_id);
  ApprovalStatus twice = Approve("officer-1", activate);  // the same officer again counts once
  EXPECT_FALSE(twice.executed);
  EXPECT_EQ(twice.approvers.size(), 1u);
  // An approval of a different action (another activation time) does not count toward this one.
  EXPECT_FALSE(Approve("officer-2", ActivateCa{{"", "matter-paa"}, 1}).executed);
  ApprovalStatus done = Approve("officer-3", activate);
  EXPECT_TRUE(done.executed);
  EXPECT_EQ(done.approvers, (std::vector<std::string>{"officer-1", "officer-3"}));
  EXPECT_EQ(station_->ca()->token_key().label(), "matter-paa");

  // The next action starts from zero: the approvals above were used up.
  ApprovalStatus retire = Approve("officer-1", RetireCa{{"station-ca", old_id}});
  EXPECT_FALSE(retire.executed);
  EXPECT_EQ(retire.approvers.size(), 1u);
  auto again = desk().Approve("officer-2", ActivateCa{{"", "matter-paa"}, 0});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason, "CA_NOT_STAGED");

  // Every call was an officer record of the log, which still verifies.
  size_t officer_records = 0;
  ASSERT_TRUE(station_->store().ForEachRecord(0, [&](const audit::AuditRecord& r) {
    if (r.kind == audit::RecordKind::kOfficer) {
      ++officer_records;
      EXPECT_FALSE(r.caller.empty());
      EXPECT_EQ(audit::ComputeRecordHash(r), r.record_hash);
      auto parsed = audit::ParseCanonicalRecord(audit::CanonicalRecord(r));
      EXPECT_TRUE(parsed.ok() && parsed->action == r.action && parsed->detail == r.detail);
    }
    return true;
  }).ok());
  EXPECT_EQ(officer_records, 6u);  // stage, four activation approvals, one retire approval
  station_->Shutdown();
  auto db = store::OpenSqliteStore(dev_->config.audit_db_path(), {.read_write = false});
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  auto key = runtime::PublishedAuditKey(dev_->config.audit);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  auto report = audit::VerifyLog(**db, &*key);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->problem.has_value()) << report->problem->what;
  EXPECT_EQ(report->records, 6u);
  EXPECT_EQ(report->checkpoints, 1u);  // signed at shutdown, over the officer records
}

// What the fleet's officers changed is followed in parts: a CA row this
// station cannot load (its token lacks the key) once kept a line set officers
// had narrowed from being read, so a removed line went on being served here.
TEST_F(ApprovalsTest, AFleetCaThisStationCannotLoadDoesNotKeepAnOldLineSet) {
  Open();
  auto pem = base::ReadFile(dev_->setup.matter_paa_cert);
  ASSERT_TRUE(pem.ok());
  EXPECT_FALSE(Approve("officer-1", SetProfileLines{"aws-iot-device", {"line-2"}}).executed);
  ASSERT_TRUE(Approve("officer-2", SetProfileLines{"aws-iot-device", {"line-2"}}).executed);
  ASSERT_TRUE(Issue("before", "line-2").ok());
  // As another station's officers would leave the store: the staged CA names
  // a key this token lacks, and the profile is for line-3 alone now.
  testing::ExecSql(dev_->config.audit_db_path(),
                   "INSERT INTO ca_state VALUES ('station-ca', '" + std::string(40, 'a') +
                       "', 'pkcs11:object=not-in-this-token;type=private', '" + *pem + "', 'staged', 0, 1); "
                       "UPDATE profile_lines SET lines = 'line-3' WHERE profile = 'aws-iot-device'");

  desk().FollowFleetFrom(0);  // an officer record of the fleet committed
  auto followed = desk().FollowFleet(station_->store());
  ASSERT_FALSE(followed.ok()) << "the CA row that cannot load is reported";
  EXPECT_NE(followed.error().message.find("staged CA"), std::string::npos) << followed.error().ToString();
  EXPECT_EQ(Issue("after", "line-2").error().reason, "PROFILE_NOT_ALLOWED") << "the fleet's line set is in force";
  EXPECT_TRUE(Issue("after-2", "line-3").ok());
  EXPECT_FALSE(desk().FollowFleet(station_->store()).ok()) << "and it is tried again, not taken as followed";
}

TEST_F(ApprovalsTest, AnExpiredApprovalNoLongerCounts) {
  Open(/*ttl_s=*/1);
  const std::string old_id = station_->ca()->key_id_hex();
  EXPECT_FALSE(Approve("officer-1", RetireCa{{"", old_id}}).executed);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  ApprovalStatus late = Approve("officer-2", RetireCa{{"", old_id}});
  EXPECT_FALSE(late.executed);
  EXPECT_EQ(late.approvers, std::vector<std::string>{"officer-2"});
  ASSERT_TRUE(station_->ca());
}

TEST_F(ApprovalsTest, AReissueNeedsTwoOfficers) {
  Open();
  ASSERT_TRUE(Issue("dev-1").ok());
  const Action reissue = ReissueDevice{"aws-iot-device", "dev-1", 3600};
  EXPECT_FALSE(Approve("officer-2", reissue).executed);
  auto refused = Issue("dev-1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "DUPLICATE_DEVICE");
  EXPECT_TRUE(Approve("officer-1", reissue).executed);
  auto reissued = Issue("dev-1");
  ASSERT_TRUE(reissued.ok()) << reissued.error().ToString();
  EXPECT_EQ(Issue("dev-1").error().reason, "DUPLICATE_DEVICE");  // one approved reissue, one certificate
  auto unknown = desk().Approve("officer-1", ReissueDevice{"no-such-profile", "dev-1", 3600});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().reason, "PROFILE_NOT_FOUND");
}

TEST_F(ApprovalsTest, WhoMayUseAProfileChangesWithTwoOfficersAndOutlivesARestart) {
  Open();
  ASSERT_TRUE(Issue("p-1").ok());
  const Action only_line_2 = SetProfileLines{"aws-iot-device", {"line-2"}};
  ApprovalStatus one = Approve("officer-1", only_line_2);
  EXPECT_FALSE(one.executed);
  ASSERT_TRUE(Issue("p-2").ok()) << "one officer alone changed nothing";
  ApprovalStatus two = Approve("officer-2", only_line_2);
  EXPECT_TRUE(two.executed);
  EXPECT_EQ(two.action, "profile.lines");
  auto refused = Issue("p-3");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "PROFILE_NOT_ALLOWED");
  EXPECT_TRUE(Issue("p-4", "line-2").ok());

  // Bad sets are refused before they are approvals.
  auto reason = [&](const SetProfileLines& action) {
    auto status = desk().Approve("officer-1", action);
    return status.ok() ? std::string("OK") : status.error().reason;
  };
  EXPECT_EQ(reason({"aws-iot-device", {}}), "LINES_INVALID");
  EXPECT_EQ(reason({"aws-iot-device", {"line\n2"}}), "LINES_INVALID");
  EXPECT_EQ(reason({"aws-iot-device", {std::string(65, 'l')}}), "LINES_INVALID");
  EXPECT_EQ(reason({"aws-iot-device", {"line-2"}}), "LINES_UNCHANGED");
  EXPECT_EQ(reason({"no-such-profile", {"line-2"}}), "PROFILE_NOT_FOUND");

  // The change is kept in the state database, over the profile file.
  Reopen();
  EXPECT_EQ(Issue("p-5").error().reason, "PROFILE_NOT_ALLOWED");
  EXPECT_TRUE(Issue("p-6", "line-2").ok());
  auto profiles = desk().ListProfiles("officer-3");
  ASSERT_TRUE(profiles.ok());
  for (const issuance::CertificateProfile* p : *profiles) {
    if (p->profile().name != "aws-iot-device") continue;
    EXPECT_EQ(*p->lines(), policy::LineSet{"line-2"});
    EXPECT_EQ(p->profile().lines, policy::LineSet{"*"});  // the file's, unchanged
  }
  // Back to every line, again with two officers.
  EXPECT_FALSE(Approve("officer-3", SetProfileLines{"aws-iot-device", {"*"}}).executed);
  EXPECT_TRUE(Approve("officer-1", SetProfileLines{"aws-iot-device", {"*"}}).executed);
  EXPECT_TRUE(Issue("p-7").ok());
}

// A station whose [ca] issuer officers retired with no successor once
// dereferenced a null CA at start; it now refuses to start, saying why.
TEST_F(ApprovalsTest, AStationWhoseCaWasRetiredWithoutASuccessorDoesNotStart) {
  Open();
  const Action retire = RetireCa{{"", "station-ca"}};
  EXPECT_FALSE(Approve("officer-1", retire).executed);
  EXPECT_TRUE(Approve("officer-2", retire).executed);
  EXPECT_EQ(station_->ca(), nullptr);
  station_->Shutdown();
  station_.reset();
  auto reopened = runtime::Station::Open(dev_->config);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().reason, "CA_RETIRED") << reopened.error().ToString();
  EXPECT_NE(reopened.error().message.find("station-ca"), std::string::npos) << reopened.error().message;
}

// A CA in one chain with the station's TLS client CA would make device
// certificates station credentials: officers cannot stage one.
TEST_F(ApprovalsTest, ACaInOneChainWithTheTlsClientCaCannotBeStaged) {
  StationTest::Open([this](config::StationConfig& config) {
    config.officers.members = {"officer-1", "officer-2", "officer-3"};
    config.officers.approvals_required = 2;
    config.tls.client_ca = dev_->setup.matter_paa_cert;  // and no profile issues under the PAA
    ASSERT_EQ(::unlink((dev_->setup.profiles_dir + "/matter-dac.toml").c_str()), 0);
  });
  auto pem = base::ReadFile(dev_->setup.matter_paa_cert);
  ASSERT_TRUE(pem.ok());
  auto staged = desk().StageCa("officer-1", "station-ca", "matter-paa", *pem);
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.error().reason, "TLS_CLIENT_CA_ISSUES_DEVICES") << staged.error().ToString();
}

// Line sets longer than std::string's inline buffer were once bound to SQLite
// from a destroyed temporary: a restart then read heap garbage.
TEST_F(ApprovalsTest, LongLineNamesOutliveARestartExactly) {
  Open();
  const policy::LineSet lines{"line-controller-building-7-hall-b-" + std::string(20, 'x'),
                              "line-controller-building-7-hall-c-" + std::string(25, 'y')};
  const Action action = SetProfileLines{"aws-iot-device", lines};
  EXPECT_FALSE(Approve("officer-1", action).executed);
  EXPECT_TRUE(Approve("officer-2", action).executed);
  Reopen();
  auto profiles = desk().ListProfiles("officer-3");
  ASSERT_TRUE(profiles.ok());
  for (const issuance::CertificateProfile* p : *profiles) {
    if (p->profile().name == "aws-iot-device") {
      EXPECT_EQ(*p->lines(), lines);
    }
  }
  EXPECT_TRUE(Issue("p-1", *lines.begin()).ok());
}

}  // namespace
}  // namespace station::officer
