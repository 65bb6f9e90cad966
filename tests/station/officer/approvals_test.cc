// Two-person control on a real station (SoftHSM token, audit log): actions
// need k distinct officers within the approval time, approvals are used up
// by the action they carry out, and each one is an audit record.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "station/audit/verify.h"
#include "station/pki/files.h"
#include "station/runtime/audit_signer.h"
#include "station/runtime/station.h"
#include "tests/support/csr_factory.h"
#include "tests/support/dev_station.h"

namespace station::officer {
namespace {

class ApprovalsTest : public ::testing::Test {
 protected:
  void Open(int64_t ttl_s = 3600) {
    dev_ = testing::MakeDevStation();
    ASSERT_TRUE(dev_);
    dev_->config.officers.members = {"officer-1", "officer-2", "officer-3"};
    dev_->config.officers.approvals_required = 2;
    dev_->config.officers.approval_ttl_s = ttl_s;
    auto station = runtime::Station::Open(dev_->config);
    ASSERT_TRUE(station.ok()) << station.error().ToString();
    station_ = std::move(*station);
  }
  OfficerDesk& desk() { return station_->officer_desk(); }
  // Stages the dev station's Matter PAA (a CA key of the same token, under [ca] root) as the next CA.
  void StageNext() {
    auto pem = pki::ReadFile(dev_->setup.matter_paa_cert);
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
  Result<issuance::Issued> Issue(const std::string& device_id) {
    issuance::IssueRequest r;
    r.request_id = "r" + std::to_string(next_id_++);
    r.profile = "aws-iot-device";
    r.device_id = device_id;
    r.csr_der = testing::MakeCsr("ec-p256").der;
    std::promise<Result<issuance::Issued>> done;
    station_->pipeline().Submit({"line-1", issuance::Role::kLine}, std::move(r),
                                [&](Result<issuance::Issued> x) { done.set_value(std::move(x)); });
    return done.get_future().get();
  }

  std::unique_ptr<testing::DevStation> dev_;
  std::unique_ptr<runtime::Station> station_;
  int next_id_ = 0;
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
  ASSERT_TRUE(station_->audit_reader().ForEach([&](const audit::AuditRecord& r) {
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
  auto db = audit::OpenDb(dev_->config.audit_db_path(), false);
  ASSERT_TRUE(db.ok());
  auto key = runtime::PublishedAuditKey(dev_->config.audit);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  auto report = audit::VerifyLog(db->get(), &*key);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->problem.has_value()) << report->problem->what;
  EXPECT_EQ(report->records, 6u);
  EXPECT_EQ(report->checkpoints, 1u);  // signed at shutdown, over the officer records
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

}  // namespace
}  // namespace station::officer
