// An attacker with write access to the state directory, while the station is
// stopped, changes the tables it acts on (sqlite3 shell). Each change once
// took effect at the next start while `audit verify` said "intact"; now the
// station refuses to start on it and `audit verify` names the rows.
#include "station/audit/state.h"

#include <gtest/gtest.h>

#include "station/audit/verify.h"
#include "station/base/files.h"
#include "station/store/sqlite_store.h"
#include "tests/station/officer/officer_station.h"
#include "tests/support/audit_db.h"

namespace station::audit {
namespace {

class StateTamperTest : public testing::OfficerStationTest {
 protected:
  // Stops the station, runs `sql` on its database, and expects the next start
  // refused for `table` (and `audit verify` to name it).
  void TamperAndExpectRefused(const std::string& sql, const std::string& table) {
    station_->Shutdown();
    station_.reset();
    testing::ExecSql(dev_->config.audit_db_path(), sql);
    auto reopened = runtime::Station::Open(dev_->config);
    ASSERT_FALSE(reopened.ok()) << "the station started on: " << sql;
    EXPECT_EQ(reopened.error().code, Code::kDataLoss);
    EXPECT_EQ(reopened.error().reason, "AUDIT_STATE_BROKEN") << reopened.error().ToString();
    EXPECT_NE(reopened.error().message.find(table), std::string::npos) << reopened.error().message;

    auto db = store::OpenSqliteStore(dev_->config.audit_db_path(), {.read_write = false});
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    auto key = NoteKey::FromPemFile(dev_->config.audit.origin, dev_->config.audit.public_key);
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    auto report = VerifyLog(**db, &*key);
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    EXPECT_FALSE(report->problem) << "the records themselves are untouched";
    ASSERT_TRUE(report->state_problem) << "audit verify said intact";
    EXPECT_EQ(report->state_problem->table, table) << report->state_problem->what;
  }

  void StagePaa() {
    auto pem = base::ReadFile(dev_->setup.matter_paa_cert);
    ASSERT_TRUE(pem.ok());
    auto staged = desk().StageCa("officer-1", "station-ca", "matter-paa", *pem);
    ASSERT_TRUE(staged.ok()) << staged.error().ToString();
  }
  void ApproveBoth(const officer::Action& action) {
    for (const char* officer : {"officer-1", "officer-2"}) {
      auto approved = desk().Approve(officer, action);
      ASSERT_TRUE(approved.ok()) << approved.error().ToString();
    }
  }
};

TEST_F(StateTamperTest, AnHonestStationStartsAndVerifies) {
  Open();
  StagePaa();
  ApproveBoth(officer::SetProfileLines{"aws-iot-device", {"line-1", "line-2"}});
  ASSERT_TRUE(Issue("dev-1").ok());
  ApproveBoth(officer::ReissueDevice{"aws-iot-device", "dev-1", 3600});
  ASSERT_TRUE(Issue("dev-1").ok());
  ASSERT_TRUE(registry().ImportLot("officer-1", {"lot-a", "matter-dac", {"m-1", "m-2"}, "lot-a.csv", ""}).ok());
  ASSERT_TRUE(registry().CloseLot("officer-2", "lot-a").ok());
  // A group whose name JSON escapes ("state:lot:...") is read back as written.
  ASSERT_TRUE(registry().ImportLot("officer-1", {"lot \"b\" \\ 7", "matter-dac", {"m-3"}, "", ""}).ok());
  auto codes = registry().MintCodes("officer-1", "fleet-claim", 2, 600);
  ASSERT_TRUE(codes.ok());
  ASSERT_TRUE(Issue("claim-1", "line-1", "fleet-claim", {{"registration_code", codes->codes[0].code}}).ok());
  EXPECT_FALSE(desk().Approve("officer-3", officer::RetireCa{{"", "station-ca"}})->executed);  // pending
  Reopen();
  ASSERT_TRUE(station_);
  auto db = store::OpenSqliteStore(dev_->config.audit_db_path(), {.read_write = false});
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  auto problem = CheckState(**db);
  ASSERT_TRUE(problem.ok()) << problem.error().ToString();
  EXPECT_FALSE(*problem) << (*problem)->table << " " << (*problem)->group << ": " << (*problem)->what;
}

TEST_F(StateTamperTest, AStagedCaMadeActiveByHand) {
  Open();
  StagePaa();
  TamperAndExpectRefused("UPDATE ca_state SET state = 'previous' WHERE state = 'active';"
                         "UPDATE ca_state SET state = 'active' WHERE key_uri LIKE '%matter-paa%'",
                         "ca_state");
}

TEST_F(StateTamperTest, ACaSetNoRecordMade) {
  Open();
  StagePaa();
  TamperAndExpectRefused("UPDATE ca_state SET issuer = 'matter-pai'", "ca_state");
}

TEST_F(StateTamperTest, ProfileLinesWidenedByHand) {
  Open();
  ApproveBoth(officer::SetProfileLines{"aws-iot-device", {"line-2"}});
  TamperAndExpectRefused("UPDATE profile_lines SET lines = '*'", "profile_lines");
}

TEST_F(StateTamperTest, ProfileLinesNoRecordMade) {
  Open();
  TamperAndExpectRefused("INSERT INTO profile_lines VALUES ('matter-dac', 'attacker-line', 1)", "profile_lines");
}

TEST_F(StateTamperTest, ARegistrationCodeOfTheAttackersChoice) {
  Open();
  ASSERT_TRUE(registry().MintCodes("officer-1", "fleet-claim", 1, 600).ok());
  // Into the officers' batch, or a batch of its own: either way no record minted it.
  TamperAndExpectRefused("INSERT INTO registration_code SELECT '" + policy::CodeHash("ATTACKER") +
                             "', profile, batch, expires_unix_ms, NULL FROM registration_code",
                         "registration_code");
}

TEST_F(StateTamperTest, AUsedRegistrationCodeMadeUnusedAgain) {
  Open();
  auto codes = registry().MintCodes("officer-1", "fleet-claim", 1, 600);
  ASSERT_TRUE(codes.ok());
  ASSERT_TRUE(Issue("claim-1", "line-1", "fleet-claim", {{"registration_code", codes->codes[0].code}}).ok());
  TamperAndExpectRefused("UPDATE registration_code SET used_seq = NULL", "registration_code");
}

TEST_F(StateTamperTest, OneOfficersApprovalTurnedIntoTwo) {
  Open();
  const officer::Action reissue = officer::ReissueDevice{"aws-iot-device", "dev-1", 3600};
  ASSERT_TRUE(Issue("dev-1").ok());
  ASSERT_FALSE(desk().Approve("officer-1", reissue)->executed);
  // The second officer's approval, copied from the first one's row.
  TamperAndExpectRefused("INSERT INTO approval (action_key, officer, created_unix_ms, expires_unix_ms, seq) "
                         "SELECT action_key, 'officer-2', created_unix_ms, expires_unix_ms, seq FROM approval",
                         "approval");
}

TEST_F(StateTamperTest, AReissueNoOfficerApproved) {
  Open();
  ASSERT_TRUE(Issue("dev-1").ok());
  TamperAndExpectRefused("INSERT INTO reissue_approval VALUES ('aws-iot-device', 'dev-1', 'officer-1+officer-2', 0, "
                         "9999999999999, 1, NULL)",
                         "reissue_approval");
}

TEST_F(StateTamperTest, AUsedReissueApprovalMadeUnusedAgain) {
  Open();
  ASSERT_TRUE(Issue("dev-1").ok());
  ApproveBoth(officer::ReissueDevice{"aws-iot-device", "dev-1", 3600});
  ASSERT_TRUE(Issue("dev-1").ok());
  TamperAndExpectRefused("UPDATE reissue_approval SET used_seq = NULL", "reissue_approval");
}

TEST_F(StateTamperTest, UsedApprovalsMadeUnusedAgain) {
  Open();
  ApproveBoth(officer::SetProfileLines{"aws-iot-device", {"line-2"}});
  TamperAndExpectRefused("UPDATE approval SET used_seq = NULL", "approval");
}

TEST_F(StateTamperTest, AClosedLotReopenedOrGrown) {
  Open();
  ASSERT_TRUE(registry().ImportLot("officer-1", {"lot-a", "matter-dac", {"m-1"}, "lot-a.csv", ""}).ok());
  ASSERT_TRUE(registry().CloseLot("officer-1", "lot-a").ok());
  TamperAndExpectRefused("UPDATE lot SET state = 'open'; INSERT INTO lot_device VALUES ('matter-dac', 'm-9', 'lot-a')",
                         "lot");
}

TEST_F(StateTamperTest, ALotNoRecordMade) {
  Open();
  TamperAndExpectRefused("INSERT INTO lot VALUES ('lot-x', 'matter-dac', 'open', 1, 'x', 'x', 0);"
                         "INSERT INTO lot_device VALUES ('matter-dac', 'm-1', 'lot-x')",
                         "lot");
}

// A record removed below the last checkpoint: the start-up check once rehashed
// only the records after it, started, appended, and signed a checkpoint over
// a tree its own export then refused as rewritten.
TEST_F(StateTamperTest, ARecordRemovedBelowTheLastCheckpoint) {
  Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Issue("dev-" + std::to_string(i)).ok());
  station_->Shutdown();  // signs a checkpoint over records 1..3
  station_.reset();
  testing::ExecSql(dev_->config.audit_db_path(), "DELETE FROM issuance WHERE seq = 2");
  auto reopened = runtime::Station::Open(dev_->config);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().reason, "AUDIT_LOG_BROKEN") << reopened.error().ToString();
  EXPECT_NE(reopened.error().message.find("removed"), std::string::npos) << reopened.error().message;
}

}  // namespace
}  // namespace station::audit
