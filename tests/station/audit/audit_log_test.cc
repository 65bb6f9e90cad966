// The audit log: group commit, hash chain, retries, and tamper detection.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <future>

#include "station/audit/store.h"
#include "station/audit/writer.h"
#include "tests/support/dev_station.h"

namespace station::audit {
namespace {

AuditRecord Draft(int i, const std::string& caller = "line-1") {
  AuditRecord r;
  r.request_id = "req-" + std::to_string(i);
  r.caller = caller;
  r.device_id = "device-" + std::to_string(i);
  r.profile = "default";
  r.serial_hex = "abc" + std::to_string(i);
  r.certificate_der = Bytes{0x30, static_cast<uint8_t>(i & 0xff), static_cast<uint8_t>(i >> 8)};
  r.certificate_id = Hex(Sha256(r.certificate_der));
  r.spki_sha256 = std::string(64, 'a');
  r.subject = "CN=device-" + std::to_string(i);
  r.issuer_key_id = "cd7d";
  r.csr_sha256 = Hex(Sha256("csr-" + std::to_string(i)));
  return r;
}

Result<AppendOutcome> AppendAndWait(AuditWriter& writer, AuditRecord r) {
  std::promise<Result<AppendOutcome>> done;
  writer.Append(std::move(r), {}, [&](Result<AppendOutcome> o) { done.set_value(std::move(o)); });
  return done.get_future().get();
}

void Sql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

class AuditLogTest : public ::testing::Test {
 protected:
  std::string db() const { return dir_.path() + "/audit.db"; }
  // Changes the database behind the writer's back, then walks the chain.
  VerifyReport TamperAndVerify(const std::string& sql) {
    Sql(db(), sql);
    AuditReader reader(db());
    auto report = VerifyChain(reader);
    EXPECT_TRUE(report.ok());
    return report.ok() ? *report : VerifyReport{};
  }
  // Appends n records from many threads at once, so batches form.
  void AppendMany(int n) {
    auto writer = AuditWriter::Open(db(), 64);
    ASSERT_TRUE(writer.ok()) << writer.error().ToString();
    std::atomic<int> durable{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < n; i += 4) {
          (*writer)->Append(Draft(i), {}, [&](Result<AppendOutcome> o) {
            if (o.ok() && !o->replayed) ++durable;
          });
        }
      });
    }
    for (auto& t : threads) t.join();
    (*writer)->Stop();
    EXPECT_EQ(durable.load(), n);
  }
  testing::TempDir dir_;
};

TEST_F(AuditLogTest, AppendsAChainThatVerifies) {
  AppendMany(500);
  AuditReader reader(db());
  auto report = VerifyChain(reader);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->records, 500u);
  uint64_t expected = 1;
  std::string prev = kGenesisHash;
  ASSERT_TRUE(reader.ForEach([&](const AuditRecord& r) {
    EXPECT_EQ(r.seq, expected++);
    EXPECT_EQ(r.prev_hash, prev);
    prev = r.record_hash;
    return true;
  }).ok());
}

TEST_F(AuditLogTest, ContinuesTheChainAfterReopening) {
  AppendMany(10);
  {
    auto writer = AuditWriter::Open(db(), 8);
    ASSERT_TRUE(writer.ok());
    EXPECT_EQ((*writer)->last_seq(), 10u);
    auto outcome = AppendAndWait(**writer, Draft(99));
    ASSERT_TRUE(outcome.ok());
    EXPECT_EQ(outcome->record.seq, 11u);
  }
  AuditReader reader(db());
  auto report = VerifyChain(reader);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact);
  EXPECT_EQ(report->records, 11u);
}

TEST_F(AuditLogTest, DetectsAChangedRecord) {
  AppendMany(20);
  VerifyReport report = TamperAndVerify("UPDATE issuance SET device_id = 'forged' WHERE seq = 7");
  EXPECT_FALSE(report.intact);
  EXPECT_EQ(report.first_bad_seq, 7u);
  EXPECT_EQ(report.records, 6u);
}

TEST_F(AuditLogTest, DetectsARemovedRecord) {
  AppendMany(20);
  VerifyReport report = TamperAndVerify("DELETE FROM issuance WHERE seq = 12");
  EXPECT_FALSE(report.intact);
  EXPECT_EQ(report.first_bad_seq, 13u);
}

TEST_F(AuditLogTest, DetectsAReplacedCertificate) {
  AppendMany(5);
  VerifyReport report = TamperAndVerify("UPDATE issuance SET certificate_der = x'3000' WHERE seq = 3");
  EXPECT_FALSE(report.intact);
  EXPECT_EQ(report.first_bad_seq, 3u);
}

TEST_F(AuditLogTest, DetectsReorderedRecords) {
  AppendMany(5);
  VerifyReport report = TamperAndVerify(
      "UPDATE issuance SET seq = 100 WHERE seq = 2; UPDATE issuance SET seq = 2 WHERE seq = 3; "
      "UPDATE issuance SET seq = 3 WHERE seq = 100");
  EXPECT_FALSE(report.intact);
  EXPECT_EQ(report.first_bad_seq, 2u);
}

TEST_F(AuditLogTest, ReplaysARetryAndRefusesAReusedRequestId) {
  auto writer = AuditWriter::Open(db(), 8);
  ASSERT_TRUE(writer.ok());
  auto first = AppendAndWait(**writer, Draft(1));
  ASSERT_TRUE(first.ok());
  // Same caller, request id and CSR: the first record comes back, nothing is added.
  AuditRecord retry = Draft(1);
  retry.serial_hex = "other-serial";
  auto again = AppendAndWait(**writer, retry);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->record.seq, first->record.seq);
  EXPECT_EQ(again->record.serial_hex, first->record.serial_hex);
  // Same request id, another CSR.
  AuditRecord reuse = Draft(1);
  reuse.csr_sha256 = Hex(Sha256("another csr"));
  reuse.serial_hex = "third-serial";
  auto refused = AppendAndWait(**writer, reuse);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(refused.error().reason, "REQUEST_ID_REUSED");
  // Another line may use the same request id.
  AuditRecord other_line = Draft(1, "line-2");
  other_line.serial_hex = "fourth-serial";
  auto other = AppendAndWait(**writer, other_line);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->replayed);
  EXPECT_EQ((*writer)->last_seq(), 2u);
  AuditReader reader(db());
  auto found = reader.FindByRequest("line-1", "req-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->serial_hex, first->record.serial_hex);
}

TEST_F(AuditLogTest, RefusesAReusedSerial) {
  auto writer = AuditWriter::Open(db(), 8);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(AppendAndWait(**writer, Draft(1)).ok());
  AuditRecord clash = Draft(2);
  clash.serial_hex = Draft(1).serial_hex;
  auto refused = AppendAndWait(**writer, clash);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "SERIAL_COLLISION");
  AuditReader reader(db());
  EXPECT_TRUE(VerifyChain(reader)->intact);
}

TEST_F(AuditLogTest, ExportsOneJsonObjectPerRecord) {
  AppendMany(3);
  AuditReader reader(db());
  std::vector<std::string> lines;
  ASSERT_TRUE(reader.ForEach([&](const AuditRecord& r) {
    lines.push_back(RecordJson(r));
    return true;
  }).ok());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("{\"seq\":1,", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("\"certificate_pem\":\"-----BEGIN CERTIFICATE-----\\n"), std::string::npos);
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

}  // namespace
}  // namespace station::audit
