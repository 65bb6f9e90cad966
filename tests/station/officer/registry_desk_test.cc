// Lots and registration codes as officers change them on a running station:
// one officer each, checked like any outside input, and each change an
// officer record written with its rows (or neither).
#include <gtest/gtest.h>

#include "tests/station/officer/officer_station.h"
#include "tests/support/audit_db.h"

namespace station::officer {
namespace {

class RegistryDeskTest : public testing::OfficerStationTest {
 protected:
  // The officer records of the log, in order.
  std::vector<audit::AuditRecord> OfficerRecords() {
    std::vector<audit::AuditRecord> out;
    EXPECT_TRUE(station_->store().ForEachRecord(0, [&](const audit::AuditRecord& r) {
      if (r.kind == audit::RecordKind::kOfficer) out.push_back(r);
      return true;
    }).ok());
    return out;
  }
  std::string ImportReason(registry::Lot lot, const std::string& officer = "officer-1") {
    auto done = registry().ImportLot(officer, std::move(lot));
    return done.ok() ? "OK" : done.error().reason;
  }
};

TEST_F(RegistryDeskTest, ALotImportIsCheckedAndIsAnAuditRecord) {
  Open();
  EXPECT_EQ(ImportReason({"lot-a", "matter-dac", {"m-1"}, "", ""}, "mallory"), "OFFICER_NOT_MEMBER");
  EXPECT_EQ(ImportReason({"lot-a", "aws-iot-device", {"m-1"}, "", ""}), "PROFILE_MISMATCH");
  EXPECT_EQ(ImportReason({"lot-a", "no-such", {"m-1"}, "", ""}), "PROFILE_NOT_FOUND");
  EXPECT_EQ(ImportReason({"", "matter-dac", {"m-1"}, "", ""}), "LOT_INVALID");
  EXPECT_EQ(ImportReason({"lot-a", "matter-dac", {}, "", ""}), "LOT_INVALID");
  EXPECT_EQ(ImportReason({"lot-a", "matter-dac", {"m-1", "m-1"}, "", ""}), "LOT_INVALID");
  EXPECT_EQ(ImportReason({"lot-a", "matter-dac", {"m\n1"}, "", ""}), "LOT_INVALID");
  EXPECT_EQ(ImportReason({"lot-a", "matter-dac", {std::string(65, 'm')}, "", ""}), "LOT_INVALID");
  EXPECT_TRUE(OfficerRecords().empty()) << "a refused call leaves no record";

  const uint64_t before = station_->audit_last_seq();
  auto done = registry().ImportLot("officer-2", {"lot-a", "matter-dac", {"m-1", "m-2"}, "lot-a.csv", "ignored"});
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(done->devices, 2u);
  EXPECT_EQ(done->audit_seq, before + 1);
  EXPECT_EQ(ImportReason({"lot-a", "matter-dac", {"m-3"}, "", ""}), "LOT_EXISTS");
  auto records = OfficerRecords();
  ASSERT_EQ(records.size(), 1u) << "the refused second import left no record";
  EXPECT_EQ(records[0].action, "lot.import");
  EXPECT_EQ(records[0].caller, "officer-2");
  EXPECT_EQ(records[0].profile, "matter-dac");
  EXPECT_NE(records[0].detail.find("\"lot\":\"lot-a\",\"devices\":2,\"device_ids_sha256\":"), std::string::npos)
      << records[0].detail;

  // The lot authorizes exactly its devices; closed, none.
  const std::map<std::string, std::string> matter = {{"vendor_id", "FFF1"}, {"product_id", "8000"}};
  EXPECT_TRUE(Issue("m-1", "line-1", "matter-dac", matter).ok());
  EXPECT_EQ(Issue("m-9", "line-1", "matter-dac", matter).error().reason, "DEVICE_NOT_AUTHORIZED");
  auto lots = registry().ListLots("officer-3");
  ASSERT_TRUE(lots.ok());
  ASSERT_EQ(lots->size(), 1u);
  EXPECT_EQ((*lots)[0].issued, 1);
  auto unknown = registry().CloseLot("officer-1", "lot-b");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().reason, "LOT_NOT_FOUND");
  ASSERT_TRUE(registry().CloseLot("officer-1", "lot-a").ok());
  EXPECT_EQ(Issue("m-2", "line-1", "matter-dac", matter).error().reason, "DEVICE_NOT_AUTHORIZED");
  records = OfficerRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].action, "lot.close");
  EXPECT_EQ(records[1].profile, "matter-dac");
}

TEST_F(RegistryDeskTest, MintedCodesWorkOnceAndNeverReachTheLog) {
  Open();
  auto reason = [&](const std::string& profile, size_t count, int64_t ttl) {
    auto minted = registry().MintCodes("officer-1", profile, count, ttl);
    return minted.ok() ? std::string("OK") : minted.error().reason;
  };
  EXPECT_EQ(reason("aws-iot-device", 1, 300), "PROFILE_MISMATCH");
  EXPECT_EQ(reason("fleet-claim", 0, 300), "USAGE");
  EXPECT_EQ(reason("fleet-claim", registry::kMaxCodesPerMint + 1, 300), "USAGE");
  EXPECT_EQ(reason("fleet-claim", 1, 10), "USAGE");
  auto minted = registry().MintCodes("officer-3", "fleet-claim", 2, 300);
  ASSERT_TRUE(minted.ok()) << minted.error().ToString();
  ASSERT_EQ(minted->codes.size(), 2u);
  const std::string code = minted->codes[0].code;
  EXPECT_TRUE(Issue("installer-1", "line-1", "fleet-claim", {{"registration_code", code}}).ok());
  EXPECT_EQ(Issue("installer-2", "line-1", "fleet-claim", {{"registration_code", code}}).error().reason,
            "DEVICE_NOT_AUTHORIZED");  // used up
  auto records = OfficerRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].action, "codes.mint");
  EXPECT_EQ(records[0].seq, minted->audit_seq);
  for (const auto& c : minted->codes) EXPECT_EQ(records[0].detail.find(c.code), std::string::npos);
}

// A lot arrives in chunks and goes to the store chunk by chunk (never whole
// into memory); a repeat across chunks is still found, and an import given
// up or refused leaves no staged id behind.
TEST_F(RegistryDeskTest, ALotInChunksIsStagedInTheStoreAndLeavesNothingWhenGivenUp) {
  Open();
  const std::string db = dev_->config.audit_db_path();
  auto staged = [&] { return testing::QueryColumn(db, "SELECT COUNT(*) FROM lot_upload").at(0); };
  {
    auto import = registry().BeginLotImport("officer-1", {"lot-a", "matter-dac", {}, "a.csv", ""});
    ASSERT_TRUE(import.ok()) << import.error().ToString();
    ASSERT_TRUE((*import)->Add({"m-1", "m-2"}).ok());
    EXPECT_EQ(staged(), "2") << "the ids are in the store, not held by the call";
    auto repeat = (*import)->Add({"m-3", "m-1"});
    ASSERT_FALSE(repeat.ok());
    EXPECT_EQ(repeat.error().reason, "LOT_INVALID");
    EXPECT_EQ(staged(), "2") << "a refused chunk is kept whole or not at all";
  }
  EXPECT_EQ(staged(), "0") << "an import given up takes its staged ids with it";
  EXPECT_EQ(registry().BeginLotImport("officer-1", {"lot+b", "matter-dac", {}, "", ""}).error().reason, "LOT_INVALID");

  auto import = registry().BeginLotImport("officer-2", {"lot-a", "matter-dac", {}, "a.csv", ""});
  ASSERT_TRUE(import.ok());
  for (int chunk = 0; chunk < 3; ++chunk) {
    std::vector<std::string> ids;
    for (int i = 0; i < 500; ++i) ids.push_back("m-" + std::to_string(chunk * 500 + i));
    ASSERT_TRUE((*import)->Add(ids).ok());
  }
  auto done = (*import)->Finish();
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(done->devices, 1500u);
  EXPECT_EQ(staged(), "0");
  EXPECT_EQ(testing::QueryColumn(db, "SELECT COUNT(*) FROM lot_device WHERE lot = 'lot-a'").at(0), "1500");
  const std::map<std::string, std::string> matter = {{"vendor_id", "FFF1"}, {"product_id", "8000"}};
  EXPECT_TRUE(Issue("m-1499", "line-1", "matter-dac", matter).ok());
  Reopen();  // the record vouches for the lot it moved in
  EXPECT_TRUE(station_);
}

}  // namespace
}  // namespace station::officer
