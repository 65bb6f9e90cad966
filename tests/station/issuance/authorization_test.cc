// Who may use a profile, and which devices may get a certificate: line
// allow-lists, duplicate keys across profiles, one-per-device with officer
// reissue approvals, closed lots, expired codes.
#include <gtest/gtest.h>

#include <future>

#include "station/base/files.h"
#include "station/policy/reservation.h"
#include "station/registry/registry_admin.h"
#include "station/runtime/station.h"
#include "tests/support/audit_db.h"
#include "tests/support/csr_factory.h"
#include "tests/support/dev_station.h"

namespace station::issuance {
namespace {

class AuthorizationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_ = testing::MakeDevStation();
    ASSERT_TRUE(dev_);
    // A profile only line-2 may use.
    ASSERT_TRUE(base::WriteFile(dev_->setup.profiles_dir + "/line-two-only.toml", "lines = [\"line-2\"]\n").ok());
    auto station = runtime::Station::Open(dev_->config);
    ASSERT_TRUE(station.ok()) << station.error().ToString();
    station_ = std::move(*station);
  }

  Result<Issued> Issue(const std::string& line, const std::string& profile, const std::string& device_id,
                       const Bytes& csr, std::map<std::string, std::string> attributes = {}) {
    IssueRequest r;
    r.request_id = "r" + std::to_string(next_id_++);
    r.profile = profile;
    r.device_id = device_id;
    r.csr_der = csr;
    r.attributes = std::move(attributes);
    std::promise<Result<Issued>> done;
    station_->pipeline().Submit({line, Role::kLine}, std::move(r), [&](Result<Issued> x) { done.set_value(std::move(x)); });
    return done.get_future().get();
  }

  static void ExpectRefused(const Result<Issued>& r, Code code, const std::string& reason) {
    ASSERT_FALSE(r.ok()) << reason;
    EXPECT_EQ(r.error().code, code) << r.error().ToString();
    EXPECT_EQ(r.error().reason, reason) << r.error().ToString();
  }

  std::unique_ptr<testing::DevStation> dev_;
  std::unique_ptr<runtime::Station> station_;
  int next_id_ = 0;
};

TEST_F(AuthorizationTest, ProfilesNameTheLinesThatMayUseThem) {
  auto csr = testing::MakeCsr("ec-p256");
  ExpectRefused(Issue("line-1", "line-two-only", "d1", csr.der), Code::kPermissionDenied, "PROFILE_NOT_ALLOWED");
  EXPECT_TRUE(Issue("line-2", "line-two-only", "d1", csr.der).ok());
  ExpectRefused(Issue("line-1", "nonexistent", "d1", csr.der), Code::kPermissionDenied, "UNKNOWN_PROFILE");
}

TEST_F(AuthorizationTest, APublicKeyIsCertifiedOnceAcrossProfiles) {
  auto csr = testing::MakeCsr("ec-p256");
  ASSERT_TRUE(Issue("line-1", "", "d1", csr.der).ok());
  ExpectRefused(Issue("line-1", "aws-iot-device", "d2", csr.der), Code::kFailedPrecondition, "DUPLICATE_KEY");
  ExpectRefused(Issue("line-1", "", "d3", testing::MakeCsrForKey(csr.key.get(), "other-cn")),
                Code::kFailedPrecondition, "DUPLICATE_KEY");
}

TEST_F(AuthorizationTest, ASecondCertificateForADeviceNeedsAnApprovalThatWorksOnce) {
  ASSERT_TRUE(Issue("line-1", "aws-iot-device", "dev-1", testing::MakeCsr("ec-p256").der).ok());
  ExpectRefused(Issue("line-1", "aws-iot-device", "dev-1", testing::MakeCsr("ec-p256").der), Code::kFailedPrecondition,
                "DUPLICATE_DEVICE");
  // Other profiles are not affected.
  EXPECT_TRUE(Issue("line-1", "", "dev-1", testing::MakeCsr("ec-p256").der).ok());
  const officer::Action reissue = officer::ReissueDevice{"aws-iot-device", "dev-1", 3600};
  ASSERT_TRUE(station_->officer_desk().Approve("officer-1", reissue).ok());
  ASSERT_TRUE(station_->officer_desk().Approve("officer-2", reissue).ok());
  auto reissued = Issue("line-1", "aws-iot-device", "dev-1", testing::MakeCsr("ec-p256").der);
  ASSERT_TRUE(reissued.ok()) << reissued.error().ToString();
  ExpectRefused(Issue("line-1", "aws-iot-device", "dev-1", testing::MakeCsr("ec-p256").der), Code::kFailedPrecondition,
                "DUPLICATE_DEVICE");
}

TEST_F(AuthorizationTest, ConcurrentRequestsForOneDeviceIssueOnce) {
  std::vector<std::promise<Result<Issued>>> promises(8);
  std::vector<Bytes> csrs;
  for (size_t i = 0; i < promises.size(); ++i) csrs.push_back(testing::MakeCsr("ec-p256").der);
  for (size_t i = 0; i < promises.size(); ++i) {
    IssueRequest r;
    r.request_id = "c" + std::to_string(i);
    r.profile = "aws-iot-device";
    r.device_id = "dev-race";
    r.csr_der = csrs[i];
    station_->pipeline().Submit({"line-1", Role::kLine}, std::move(r),
                                [&promises, i](Result<Issued> x) { promises[i].set_value(std::move(x)); });
  }
  size_t issued = 0;
  for (auto& p : promises) {
    auto r = p.get_future().get();
    if (r.ok()) {
      ++issued;
    } else {
      EXPECT_EQ(r.error().reason, "DUPLICATE_DEVICE");
    }
  }
  EXPECT_EQ(issued, 1u);
}

TEST_F(AuthorizationTest, AClosedLotAuthorizesNoMoreDevices) {
  std::string db = dev_->config.audit_db_path();
  officer::RegistryDesk& registry = station_->registry_desk();
  ASSERT_TRUE(registry.ImportLot("officer-1", {"lot-a", "matter-dac", {"m-1", "m-2"}, "test", ""}).ok());
  std::map<std::string, std::string> ids = {{"vendor_id", "FFF1"}, {"product_id", "8001"}};
  ASSERT_TRUE(Issue("line-1", "matter-dac", "m-1", testing::MakeCsr("ec-p256").der, ids).ok());
  ASSERT_TRUE(registry.CloseLot("officer-2", "lot-a").ok());
  ExpectRefused(Issue("line-1", "matter-dac", "m-2", testing::MakeCsr("ec-p256").der, ids), Code::kPermissionDenied,
                "DEVICE_NOT_AUTHORIZED");
  auto lots = station_->store().Lots();
  ASSERT_TRUE(lots.ok());
  ASSERT_EQ(lots->size(), 1u);
  EXPECT_EQ((*lots)[0].state, "closed");
  EXPECT_EQ((*lots)[0].issued, 1);
  EXPECT_EQ(registry.ImportLot("officer-1", {"lot-a", "matter-dac", {"m-3"}, "test", ""}).error().reason, "LOT_EXISTS");
}

TEST_F(AuthorizationTest, AnExpiredCodeIsRefused) {
  std::string db = dev_->config.audit_db_path();
  auto minted = station_->registry_desk().MintCodes("officer-1", "fleet-claim", 1, 300);
  ASSERT_TRUE(minted.ok());
  const auto* codes = &minted->codes;
  // Age the code past its expiry.
  testing::ExecSql(db, "UPDATE registration_code SET expires_unix_ms = 1");
  ExpectRefused(Issue("line-1", "fleet-claim", "inst-1", testing::MakeCsr("ec-p256").der,
                      {{"registration_code", (*codes)[0].code}}),
                Code::kPermissionDenied, "DEVICE_NOT_AUTHORIZED");
  // Only the hash is stored.
  const std::string hash = policy::CodeHash((*codes)[0].code);
  EXPECT_EQ(testing::QueryColumn(db, "SELECT COUNT(*) FROM registration_code WHERE code_sha256 = '" + hash + "'"),
            std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace station::issuance
