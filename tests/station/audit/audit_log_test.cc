// The audit log: group commit, hash chain, Merkle tree, signed checkpoints,
// retries, and tamper detection by editing the SQLite file behind its back.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "station/audit/proof.h"
#include "station/audit/verify.h"
#include "station/audit/writer.h"
#include "station/base/text.h"
#include "station/store/sqlite_store.h"
#include "tests/support/audit_db.h"
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

// An Ed25519 audit key in memory: the token-held one is exercised end to end
// (tests/e2e); here the log's own logic is under test.
struct SoftwareAuditKey {
  SoftwareAuditKey() : pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")) {}
  CheckpointSigner Signer(const std::string& origin = "test.invalid/log") const {
    CheckpointSigner signer;
    signer.key = *NoteKey::FromPublicKey(origin, pkey.get());
    EVP_PKEY* k = pkey.get();
    signer.sign = [k](std::string_view text) -> Result<Bytes> {
      EvpMdCtxPtr ctx(EVP_MD_CTX_new());
      Bytes sig(64);
      size_t len = sig.size();
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k);
      EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const uint8_t*>(text.data()), text.size());
      return sig;
    };
    return signer;
  }
  EvpPkeyPtr pkey;
};

class AuditLogTest : public ::testing::Test {
 protected:
  std::string db() const { return dir_.path() + "/audit.db"; }
  std::shared_ptr<store::Store> OpenStore(bool read_write = true) {
    auto opened = store::OpenSqliteStore(db(), {.read_write = read_write});
    EXPECT_TRUE(opened.ok()) << opened.error().ToString();
    return opened.ok() ? *opened : nullptr;
  }
  WriterOptions Options(size_t max_batch = 64) const {
    WriterOptions options;
    options.max_batch = max_batch;
    options.checkpoint_every = checkpoint_every_;
    options.signer = key_.Signer();
    return options;
  }
  Result<std::unique_ptr<AuditWriter>> OpenWriter(size_t max_batch = 8) { return AuditWriter::Open(OpenStore(), Options(max_batch)); }
  // A writer told the station is (or is not) saturated, that would gather
  // for longer than any test waits.
  std::unique_ptr<AuditWriter> GatheringWriter(size_t max_batch, bool saturated) {
    WriterOptions options = Options(max_batch);
    options.commit_delay = std::chrono::seconds(120);
    auto writer = AuditWriter::Open(OpenStore(), std::move(options));
    EXPECT_TRUE(writer.ok()) << writer.error().ToString();
    if (!writer.ok()) return nullptr;
    (*writer)->SetSaturationProbe([saturated] { return saturated; });
    return std::move(*writer);
  }
  VerifyReport Verify() {
    auto handle = OpenStore(false);
    EXPECT_TRUE(handle);
    NoteKey key = key_.Signer().key;
    auto report = VerifyLog(*handle, &key);
    EXPECT_TRUE(report.ok()) << report.error().ToString();
    return report.ok() ? *report : VerifyReport{};
  }
  // Changes the database behind the writer's back, then verifies the log.
  VerifyReport TamperAndVerify(const std::string& sql) {
    testing::ExecSql(db(), sql);
    return Verify();
  }
  // The problem verify reports must be of this kind at this record.
  void ExpectProblem(const VerifyReport& report, Tampering kind, uint64_t seq) {
    ASSERT_TRUE(report.problem.has_value()) << "tampering not detected";
    EXPECT_EQ(TamperingName(report.problem->kind), std::string(TamperingName(kind))) << report.problem->what;
    EXPECT_EQ(report.problem->seq, seq) << report.problem->what;
  }
  // Appends n records one at a time: one per batch, so checkpoints fall at
  // exact multiples of checkpoint_every.
  void AppendInOrder(int n) {
    auto writer = OpenWriter();
    ASSERT_TRUE(writer.ok()) << writer.error().ToString();
    for (int i = 0; i < n; ++i) ASSERT_TRUE(AppendAndWait(**writer, Draft(i)).ok());
  }
  // The server's startup check refuses the log, naming the problem.
  void ExpectStartupRefuses(const std::string& words) {
    auto writer = OpenWriter();
    ASSERT_FALSE(writer.ok()) << "a broken log was opened for writing";
    EXPECT_EQ(writer.error().code, Code::kDataLoss);
    EXPECT_EQ(writer.error().reason, "AUDIT_LOG_BROKEN");
    EXPECT_NE(writer.error().message.find(words), std::string::npos) << writer.error().message;
  }
  // Appends n records from many threads at once, so batches form.
  void AppendMany(int n) {
    auto writer = AuditWriter::Open(OpenStore(), Options());
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
  SoftwareAuditKey key_;
  uint64_t checkpoint_every_ = 10;
};

TEST_F(AuditLogTest, AppendsAChainThatVerifies) {
  checkpoint_every_ = 100;
  AppendMany(500);
  VerifyReport report = Verify();
  EXPECT_FALSE(report.problem.has_value()) << report.problem->what;
  EXPECT_EQ(report.records, 500u);
  EXPECT_GE(report.checkpoints, 4u) << "one at least every 100 records (batches of up to 64)";
  ASSERT_TRUE(report.latest.has_value());
  EXPECT_EQ(report.latest->size, 500u);
  auto reader = OpenStore(false);
  uint64_t expected = 1;
  std::string prev = kGenesisHash;
  ASSERT_TRUE(reader->ForEachRecord(0, [&](const AuditRecord& r) {
    EXPECT_EQ(r.seq, expected++);
    EXPECT_EQ(r.prev_hash, prev);
    prev = r.record_hash;
    return true;
  }).ok());
}

// A writer that gathered when it should not would keep these tests waiting
// for its 120 s delay: they wait 30 s at most.
constexpr auto kPatience = std::chrono::seconds(30);

std::future<Result<AppendOutcome>> AppendLater(AuditWriter& writer, int i) {
  auto done = std::make_shared<std::promise<Result<AppendOutcome>>>();
  writer.Append(Draft(i), {}, [done](Result<AppendOutcome> o) { done->set_value(std::move(o)); });
  return done->get_future();
}

TEST_F(AuditLogTest, WhileTheStationIsSaturatedRecordsAreGatheredIntoOneCommit) {
  auto writer = GatheringWriter(4, true);
  ASSERT_TRUE(writer);
  std::vector<std::future<Result<AppendOutcome>>> done;
  done.push_back(AppendLater(*writer, 0));
  // Time for the writer to wake for the first record: it must wait for the rest.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int i = 1; i < 4; ++i) done.push_back(AppendLater(*writer, i));
  // A full batch (max_batch 4) ends the gathering before the delay.
  for (auto& d : done) {
    ASSERT_EQ(d.wait_for(kPatience), std::future_status::ready);
    EXPECT_TRUE(d.get().ok());
  }
  EXPECT_EQ(writer->commits(), 1u);
  EXPECT_EQ(writer->last_seq(), 4u);
}

TEST_F(AuditLogTest, AStationThatIsNotSaturatedCommitsEachRecordAtOnce) {
  auto writer = GatheringWriter(4, false);
  ASSERT_TRUE(writer);
  for (int i = 0; i < 3; ++i) {
    auto done = AppendLater(*writer, i);
    ASSERT_EQ(done.wait_for(kPatience), std::future_status::ready) << "a lone record waited for company";
    EXPECT_TRUE(done.get().ok());
  }
  EXPECT_EQ(writer->commits(), 3u);
}

TEST_F(AuditLogTest, StopCommitsTheRecordsAGatheringWriterHolds) {
  auto writer = GatheringWriter(64, true);
  ASSERT_TRUE(writer);
  auto first = AppendLater(*writer, 1);
  auto second = AppendLater(*writer, 2);
  auto stopped = std::async(std::launch::async, [&] { writer->Stop(); });
  ASSERT_EQ(stopped.wait_for(kPatience), std::future_status::ready) << "Stop waited out the gathering";
  ASSERT_EQ(first.wait_for(kPatience), std::future_status::ready);
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(second.get().ok());
  EXPECT_EQ(writer->last_seq(), 2u);
  EXPECT_FALSE(Verify().problem.has_value());
}

TEST_F(AuditLogTest, ContinuesTheChainAfterReopening) {
  AppendInOrder(13);  // checkpoints at 10 and (shutdown) 13
  {
    auto writer = OpenWriter();
    ASSERT_TRUE(writer.ok()) << writer.error().ToString();
    EXPECT_EQ((*writer)->last_seq(), 13u);
    EXPECT_EQ((*writer)->checkpoint_size(), 13u);
    auto outcome = AppendAndWait(**writer, Draft(99));
    ASSERT_TRUE(outcome.ok());
    EXPECT_EQ(outcome->record.seq, 14u);
  }
  VerifyReport report = Verify();
  EXPECT_FALSE(report.problem.has_value()) << report.problem->what;
  EXPECT_EQ(report.records, 14u);
  EXPECT_EQ(report.checkpoints, 3u);
}

TEST_F(AuditLogTest, SignsACheckpointAfterTheIntervalWhenFewRecordsArrive) {
  checkpoint_every_ = 1000;
  WriterOptions options = Options();
  options.checkpoint_interval = std::chrono::milliseconds(50);
  auto writer = AuditWriter::Open(OpenStore(), std::move(options));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(AppendAndWait(**writer, Draft(1)).ok());
  ASSERT_TRUE(AppendAndWait(**writer, Draft(2)).ok());
  for (int i = 0; i < 500 && (*writer)->checkpoint_size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ((*writer)->checkpoint_size(), 2u);
}

TEST_F(AuditLogTest, CheckpointsAreC2spNotesThatVerifyWithThePublicKeyOnly) {
  AppendInOrder(10);
  auto handle = OpenStore(false);
  ASSERT_TRUE(handle);
  auto stored = handle->Checkpoints(true);
  ASSERT_TRUE(stored.ok() && stored->size() == 1);
  const std::string& note = stored->front().note;
  // origin, size, base64 root, blank line, "— origin base64(keyid||sig)".
  EXPECT_EQ(note.rfind("test.invalid/log\n10\n", 0), 0u) << note;
  EXPECT_NE(note.find("\n\n\xe2\x80\x94 test.invalid/log "), std::string::npos) << note;
  NoteKey key = key_.Signer().key;
  auto opened = OpenCheckpoint(note, key);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(opened->size, 10u);
  // Another key, or one changed byte, and the note is refused.
  SoftwareAuditKey other;
  EXPECT_FALSE(OpenCheckpoint(note, other.Signer().key).ok());
  std::string altered = note;
  altered[altered.find("\n10\n") + 2] = '1';
  EXPECT_FALSE(OpenCheckpoint(altered, key).ok());
  // The verifier key string of golang.org/x/mod/sumdb/note: name+id+base64(0x01||key).
  EXPECT_EQ(key.VerifierKey().rfind("test.invalid/log+", 0), 0u);
}

TEST_F(AuditLogTest, NamesAChangedRecord) {
  AppendMany(20);
  VerifyReport report = TamperAndVerify("UPDATE issuance SET device_id = 'forged' WHERE seq = 7");
  ExpectProblem(report, Tampering::kChanged, 7);
  EXPECT_EQ(report.records, 6u);
}

TEST_F(AuditLogTest, NamesAReplacedCertificate) {
  AppendMany(5);
  ExpectProblem(TamperAndVerify("UPDATE issuance SET certificate_der = x'3000' WHERE seq = 3"), Tampering::kChanged, 3);
}

TEST_F(AuditLogTest, NamesARemovedRecord) {
  AppendMany(20);
  ExpectProblem(TamperAndVerify("DELETE FROM issuance WHERE seq = 12"), Tampering::kRemoved, 12);
}

TEST_F(AuditLogTest, NamesARemovedRecordWhenTheRestWereRenumbered) {
  AppendMany(20);
  ExpectProblem(TamperAndVerify("DELETE FROM issuance WHERE seq = 12; UPDATE issuance SET seq = -seq WHERE seq > 12; "
                                "UPDATE issuance SET seq = -seq - 1 WHERE seq < 0"),
                Tampering::kRemoved, 12);
}

TEST_F(AuditLogTest, NamesAnInsertedRecord) {
  AppendMany(20);
  // A forged record with a correct hash, linked to record 4, slipped in as
  // record 5; the records after it renumbered to make room.
  AuditRecord forged = Draft(555);
  forged.seq = 5;
  forged.time_unix_ms = 1;
  auto reader = OpenStore(false);
  ASSERT_TRUE(reader->ForEachRecord(0, [&](const AuditRecord& r) {
    if (r.seq == 4) forged.prev_hash = r.record_hash;
    return r.seq < 4;
  }).ok());
  forged.record_hash = ComputeRecordHash(forged);
  testing::ExecSql(db(), "UPDATE issuance SET seq = -seq WHERE seq >= 5; UPDATE issuance SET seq = -seq + 1 WHERE seq < 0");
  testing::ExecSql(db(), "INSERT INTO issuance (seq, time_unix_ms, request_id, caller, device_id, profile, serial_hex, "
            "certificate_id, spki_sha256, subject, issuer_key_id, csr_sha256, thing_name, thing_type, thing_attributes, "
            "authorization, certificate_der, prev_hash, record_hash) VALUES (5, 1, '" + forged.request_id + "', '" +
            forged.caller + "', '" + forged.device_id + "', 'default', '" + forged.serial_hex + "', '" +
            forged.certificate_id + "', '" + forged.spki_sha256 + "', '" + forged.subject + "', 'cd7d', '" +
            forged.csr_sha256 + "', '', '', '', '', x'" + Hex(forged.certificate_der) + "', '" + forged.prev_hash +
            "', '" + forged.record_hash + "')");
  ExpectProblem(Verify(), Tampering::kInserted, 5);
}

TEST_F(AuditLogTest, NamesReorderedRecords) {
  AppendMany(5);
  VerifyReport report = TamperAndVerify(
      "UPDATE issuance SET seq = 100 WHERE seq = 2; UPDATE issuance SET seq = 2 WHERE seq = 3; "
      "UPDATE issuance SET seq = 3 WHERE seq = 100");
  ExpectProblem(report, Tampering::kReordered, 2);
}

TEST_F(AuditLogTest, NamesALogCutBackBehindItsLastCheckpoint) {
  AppendMany(25);  // checkpoints at 10, 20 and (shutdown) 25
  ExpectProblem(TamperAndVerify("DELETE FROM issuance WHERE seq > 18"), Tampering::kTruncated, 19);
  ExpectStartupRefuses("log cut back");
}

TEST_F(AuditLogTest, DetectsAChainRewrittenUnderASignedCheckpoint) {
  AppendInOrder(25);
  // The forger changes record 7 and recomputes every hash after it: the chain
  // verifies, the signed root of checkpoint 10 does not.
  std::vector<AuditRecord> records;
  auto reader = OpenStore(false);
  ASSERT_TRUE(reader->ForEachRecord(0, [&](const AuditRecord& r) {
    records.push_back(r);
    return true;
  }).ok());
  records[6].device_id = "forged";
  std::string sql;
  for (size_t i = 6; i < records.size(); ++i) {
    records[i].prev_hash = records[i - 1].record_hash;
    records[i].record_hash = ComputeRecordHash(records[i]);
    sql += "UPDATE issuance SET device_id = '" + records[i].device_id + "', prev_hash = '" + records[i].prev_hash +
           "', record_hash = '" + records[i].record_hash + "' WHERE seq = " + std::to_string(records[i].seq) + ";";
  }
  VerifyReport report = TamperAndVerify(sql);
  ExpectProblem(report, Tampering::kRewritten, 1);
  EXPECT_NE(report.problem->what.find("records 1..10"), std::string::npos) << report.problem->what;
}

TEST_F(AuditLogTest, DetectsAnAlteredCheckpoint) {
  AppendInOrder(25);
  // Claim the checkpoint of 20 covered 21 records: its signature breaks.
  ExpectProblem(TamperAndVerify("UPDATE checkpoint SET note = replace(note, char(10) || '20' || char(10), "
                                "char(10) || '21' || char(10)) WHERE size = 20"),
                Tampering::kBadCheckpoint, 20);
}

TEST_F(AuditLogTest, StartupRefusesALogBrokenAfterItsLastCheckpoint) {
  {
    auto writer = OpenWriter();
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 14; ++i) ASSERT_TRUE(AppendAndWait(**writer, Draft(i)).ok());
  }  // Stop() signs the checkpoint of 14
  // Stop() signed 14; dropping that checkpoint models a crash before it, so
  // records 11..14 are covered by nothing but the chain.
  testing::ExecSql(db(), "DELETE FROM checkpoint WHERE size = 14");
  testing::ExecSql(db(), "UPDATE issuance SET subject = 'CN=forged' WHERE seq = 12");
  ExpectStartupRefuses("record 12 changed");
  testing::ExecSql(db(), "DELETE FROM issuance WHERE seq = 12");
  ExpectStartupRefuses("record 12 missing");
}

TEST_F(AuditLogTest, InclusionProofsVerifyOfflineAndForgeriesDoNot) {
  AppendInOrder(23);
  auto handle = OpenStore(false);
  ASSERT_TRUE(handle);
  NoteKey key = key_.Signer().key;
  for (int i : {0, 6, 22}) {
    auto proof = ProveInclusion(*handle, key, Draft(i).serial_hex);
    ASSERT_TRUE(proof.ok()) << proof.error().ToString();
    auto checked = CheckInclusionProof(*proof, key);
    ASSERT_TRUE(checked.ok()) << checked.error().ToString();
    EXPECT_EQ(checked->record.serial_hex, Draft(i).serial_hex);
    EXPECT_EQ(checked->checkpoint.size, 23u);
    // A record changed inside the proof no longer leads to the signed root.
    std::string forged = *proof;
    size_t at = forged.find("record ") + 20;
    forged[at] = forged[at] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(CheckInclusionProof(forged, key).ok());
    // Another key does not vouch for it.
    SoftwareAuditKey other;
    EXPECT_FALSE(CheckInclusionProof(*proof, other.Signer().key).ok());
  }
  auto missing = ProveInclusion(*handle, key, "ffff");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, "SERIAL_NOT_FOUND");
}

TEST_F(AuditLogTest, ReplaysARetryAndRefusesAReusedRequestId) {
  auto writer = OpenWriter();
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
  auto reader = OpenStore(false);
  auto found = reader->FindByRequest("line-1", "req-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->serial_hex, first->record.serial_hex);
}

TEST_F(AuditLogTest, RefusesAReusedSerial) {
  auto writer = OpenWriter();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(AppendAndWait(**writer, Draft(1)).ok());
  AuditRecord clash = Draft(2);
  clash.serial_hex = Draft(1).serial_hex;
  auto refused = AppendAndWait(**writer, clash);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "SERIAL_COLLISION");
  EXPECT_FALSE(Verify().problem.has_value());
}

TEST_F(AuditLogTest, ExportsOneJsonObjectPerRecord) {
  AppendMany(3);
  auto reader = OpenStore(false);
  std::vector<std::string> lines;
  ASSERT_TRUE(reader->ForEachRecord(0, [&](const AuditRecord& r) {
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
