// store/store.h's contract, held to both stores: the embedded SQLite file and
// a real PostgreSQL (started by ops/dev-postgres). Each case runs against
// both; what spans stations (one device, one key, one code whichever station
// asks; each station its own log) is in shared_store_test.cc.
#include <gtest/gtest.h>

#include <memory>

#include "station/base/bytes.h"
#include "station/policy/reservation.h"
#include "station/store/pg_store.h"
#include "station/store/sqlite_store.h"
#include "tests/support/dev_postgres.h"

namespace station::store {
namespace {

AuditRecord Issuance(uint64_t seq, const std::string& device, const std::string& key) {
  AuditRecord r;
  r.kind = RecordKind::kIssuance;
  r.seq = seq;
  r.time_unix_ms = 1700000000000 + static_cast<int64_t>(seq);
  r.request_id = "req-" + device + "-" + std::to_string(seq);
  r.caller = "line-1";
  r.device_id = device;
  r.profile = "default";
  r.serial_hex = "5e" + std::to_string(seq) + device;
  // A certificate's bytes are binary: zeros and high bytes must come back as they went.
  r.certificate_der = Bytes{0x30, 0x00, 0xff, 0x80, static_cast<uint8_t>(seq)};
  r.certificate_id = Hex(Sha256(r.certificate_der));
  r.spki_sha256 = key;
  r.subject = "CN=" + device + ",O=Caf\xc3\xa9";
  r.issuer_key_id = "cd7d";
  r.csr_sha256 = Hex(Sha256("csr-" + device));
  r.thing_attributes = "{\"batch\":\"7\"}";
  r.prev_hash = std::string(64, '0');
  r.record_hash = Hex(Sha256("record-" + std::to_string(seq)));
  return r;
}

AuditRecord Officer(uint64_t seq) {
  AuditRecord r;
  r.kind = RecordKind::kOfficer;
  r.seq = seq;
  r.time_unix_ms = 1700000000000 + static_cast<int64_t>(seq);
  r.request_id = "action-" + std::to_string(seq);
  r.caller = "officer-1";
  r.action = "codes.mint";
  r.profile = "default";
  r.detail = "{\"count\":1}";
  r.prev_hash = std::string(64, '1');
  r.record_hash = Hex(Sha256("officer-" + std::to_string(seq)));
  return r;
}

std::string Key(int i) { return Hex(Sha256("key-" + std::to_string(i))); }

policy::Reservation OnePerDevice(const std::string& device, const std::string& key) {
  policy::Reservation r;
  r.profile = "default";
  r.device_id = device;
  r.spki_sha256 = key;
  r.one_per_device = true;
  return r;
}

class StoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      pg_ = std::make_unique<testing::DevPostgres>();
      ASSERT_TRUE(pg_->ok()) << pg_->error();
    }
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  std::shared_ptr<Store> Open() {
    auto opened = GetParam() == "postgres" ? OpenPostgresStore(pg_->Options("station-a"))
                                           : OpenSqliteStore(dir_.path() + "/audit.db");
    EXPECT_TRUE(opened.ok()) << opened.error().ToString();
    return opened.ok() ? *opened : nullptr;
  }

  // Reserves and appends each record in one batch, and commits it.
  Status Commit(const std::vector<std::pair<policy::Reservation, AuditRecord>>& records) {
    ST_ASSIGN_OR_RETURN(std::unique_ptr<Batch> batch, store_->Begin());
    for (const auto& [reservation, record] : records) {
      AuditRecord r = record;
      ST_RETURN_IF_ERROR(batch->Atomically([&]() -> Status {
        ST_ASSIGN_OR_RETURN(r.authorization, batch->Reserve(reservation, r.time_unix_ms, r.seq));
        return batch->Append(r);
      }));
    }
    return batch->Commit();
  }

  // `code` of profile default, minted by officer record 1.
  Status MintCode(const std::string& code) {
    ST_ASSIGN_OR_RETURN(std::unique_ptr<Batch> batch, store_->Begin());
    ST_RETURN_IF_ERROR(batch->Append(Officer(1)));
    ST_RETURN_IF_ERROR(batch->AddCodes("default", "batch-1", {{policy::CodeHash(code), 4102444800000}}));
    return batch->Commit();
  }

  std::vector<AuditRecord> Records() {
    std::vector<AuditRecord> out;
    Status read = store_->ForEachRecord(0, [&](const AuditRecord& r) {
      out.push_back(r);
      return true;
    });
    EXPECT_TRUE(read.ok()) << read.error().ToString();
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::DevPostgres> pg_;
  std::shared_ptr<Store> store_;
};

TEST_P(StoreContractTest, EveryFieldOfBothKindsComesBackInSeqOrder) {
  ASSERT_TRUE(Commit({{OnePerDevice("d1", Key(1)), Issuance(1, "d1", Key(1))}}).ok());
  {
    auto batch = store_->Begin();
    ASSERT_TRUE(batch.ok()) << batch.error().ToString();
    ASSERT_TRUE((*batch)->Append(Officer(2)).ok());
    ASSERT_TRUE((*batch)->Append(Issuance(3, "d3", Key(3))).ok());
    ASSERT_TRUE((*batch)->Commit().ok());
  }
  std::vector<AuditRecord> records = Records();
  ASSERT_EQ(records.size(), 3u);
  const AuditRecord want[] = {Issuance(1, "d1", Key(1)), Officer(2), Issuance(3, "d3", Key(3))};
  for (size_t i = 0; i < 3; ++i) {
    for (const RecordField& f : RecordFields(want[i].kind))
      EXPECT_EQ(FieldText(records[i], f), FieldText(want[i], f)) << "record " << i << " field " << f.column;
    EXPECT_EQ(records[i].kind, want[i].kind);
  }
  auto count = store_->CountRecords();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->records, 3u);
  EXPECT_EQ(count->highest, 3u);
  auto found = store_->FindByRequest("line-1", want[2].request_id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->seq, 3u);
  EXPECT_EQ(*store_->FindSeqBySerial(want[0].serial_hex), std::optional<uint64_t>(1));
  EXPECT_EQ(*store_->FindSeqByHash(want[1].record_hash), std::optional<uint64_t>(2));
  EXPECT_EQ(*store_->FindSeqByHash(std::string(64, 'f')), std::nullopt);
}

TEST_P(StoreContractTest, AKeyAndADeviceAreCertifiedOnce) {
  ASSERT_TRUE(Commit({{OnePerDevice("d1", Key(1)), Issuance(1, "d1", Key(1))}}).ok());
  auto same_key = store_->CheckReservation(OnePerDevice("d2", Key(1)), 0);
  ASSERT_FALSE(same_key.ok());
  EXPECT_EQ(same_key.error().reason, "DUPLICATE_KEY");
  Status same_device = Commit({{OnePerDevice("d1", Key(2)), Issuance(2, "d1", Key(2))}});
  ASSERT_FALSE(same_device.ok());
  EXPECT_EQ(same_device.error().reason, "DUPLICATE_DEVICE");
  EXPECT_NE(same_device.error().message.find("audit seq 1"), std::string::npos) << same_device.error().message;
  EXPECT_EQ(Records().size(), 1u);
}

TEST_P(StoreContractTest, AFailedStepIsUndoneAndTheBatchGoesOn) {
  auto batch = store_->Begin();
  ASSERT_TRUE(batch.ok());
  Status failed = (*batch)->Atomically([&]() -> Status {
    if (Status st = (*batch)->Append(Issuance(1, "d1", Key(1))); !st.ok()) return st;
    return MakeError(Code::kFailedPrecondition, "REFUSED", "the step refuses after writing");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE((*batch)->lost());
  ASSERT_TRUE((*batch)->Append(Issuance(1, "d1b", Key(2))).ok());
  // Appending the same serial again collides, and the batch survives that too.
  Status collided = (*batch)->Atomically([&] { return (*batch)->Append(Issuance(1, "d1b", Key(3))); });
  ASSERT_FALSE(collided.ok());
  EXPECT_FALSE((*batch)->lost());
  ASSERT_TRUE((*batch)->Commit().ok());
  std::vector<AuditRecord> records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].device_id, "d1b");
}

TEST_P(StoreContractTest, ABatchNotCommittedLeavesNothing) {
  {
    auto batch = store_->Begin();
    ASSERT_TRUE(batch.ok());
    ASSERT_TRUE((*batch)->Append(Issuance(1, "d1", Key(1))).ok());
  }
  EXPECT_TRUE(Records().empty());
  ASSERT_TRUE(Commit({{OnePerDevice("d1", Key(1)), Issuance(1, "d1", Key(1))}}).ok());
  EXPECT_EQ(Records().size(), 1u);
}

TEST_P(StoreContractTest, ACodeWorksOnce) {
  ASSERT_TRUE(MintCode("code-1").ok());
  policy::Reservation with_code = OnePerDevice("d1", Key(1));
  with_code.code_required = true;
  with_code.code_sha256 = policy::CodeHash("code-1");
  ASSERT_TRUE(Commit({{with_code, Issuance(2, "d1", Key(1))}}).ok());
  std::vector<AuditRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].authorization, "code:" + with_code.code_sha256.substr(0, 16));
  policy::Reservation again = with_code;
  again.device_id = "d2";
  again.spki_sha256 = Key(2);
  Status second = Commit({{again, Issuance(3, "d2", Key(2))}});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().reason, "DEVICE_NOT_AUTHORIZED");
  EXPECT_NE(second.error().message.find("used already"), std::string::npos) << second.error().message;
  auto uses = store_->CheckUses();
  ASSERT_TRUE(uses.ok()) << uses.error().ToString();
  EXPECT_FALSE(uses->has_value()) << (*uses)->what;
}

// Told a batch's requests first, a store still sees the batch's own records:
// a second record for a device or a key in the same batch is refused, and a
// retry finds the first before it is committed.
TEST_P(StoreContractTest, ABatchToldItsRequestsFirstStillSeesItsOwnRecords) {
  ASSERT_TRUE(Commit({{OnePerDevice("d0", Key(0)), Issuance(1, "d0", Key(0))}}).ok());
  AuditRecord first = Issuance(2, "d1", Key(1));
  const policy::Reservation reserved = OnePerDevice("d1", Key(1)), same_device = OnePerDevice("d1", Key(2)),
                            same_key = OnePerDevice("d2", Key(1)), stored_device = OnePerDevice("d0", Key(3));
  auto batch = store_->Begin();
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE((*batch)
                  ->Expect({{"line-1", first.request_id, reserved},
                            {"line-1", "req-x", same_device},
                            {"line-1", "req-y", same_key},
                            {"line-1", "req-z", stored_device}})
                  .ok());
  ASSERT_TRUE((*batch)
                  ->Atomically([&]() -> Status {
                    ST_ASSIGN_OR_RETURN(first.authorization, (*batch)->Reserve(reserved, first.time_unix_ms, 2));
                    return (*batch)->Append(first);
                  })
                  .ok());
  auto retry = (*batch)->FindByRequest("line-1", first.request_id);
  ASSERT_TRUE(retry.ok() && retry->has_value());
  EXPECT_EQ((*retry)->serial_hex, first.serial_hex);
  auto unknown = (*batch)->FindByRequest("line-1", "req-x");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
  const std::pair<policy::Reservation, std::string> refusals[] = {
      {same_device, "DUPLICATE_DEVICE"}, {same_key, "DUPLICATE_KEY"}, {stored_device, "DUPLICATE_DEVICE"}};
  for (const auto& [reservation, reason] : refusals) {
    auto refused = (*batch)->Reserve(reservation, 0, 3);
    ASSERT_FALSE(refused.ok()) << reservation.device_id;
    EXPECT_EQ(refused.error().reason, reason) << reservation.device_id;
  }
  ASSERT_TRUE((*batch)->Commit().ok());
  EXPECT_EQ(Records().size(), 2u);
}

// Several looks before signing at once: one answer each, in order.
TEST_P(StoreContractTest, LooksBeforeSigningAreAnsweredEachInOrder) {
  const AuditRecord stored = Issuance(1, "d1", Key(1));
  ASSERT_TRUE(Commit({{OnePerDevice("d1", Key(1)), stored}}).ok());
  std::vector<Store::Look> looks;
  for (auto& look : store_->LookBeforeSigning({{"line-1", "req-new", OnePerDevice("d2", Key(2))},
                                               {"line-1", stored.request_id, OnePerDevice("d1", Key(1))},
                                               {"line-1", "req-key", OnePerDevice("d3", Key(1))},
                                               {"line-1", "req-device", OnePerDevice("d1", Key(4))}},
                                              0)) {
    ASSERT_TRUE(look.ok()) << look.error().ToString();
    looks.push_back(std::move(*look));
  }
  ASSERT_EQ(looks.size(), 4u);
  EXPECT_FALSE(looks[0].earlier);
  EXPECT_TRUE(looks[0].authorization.ok());
  ASSERT_TRUE(looks[1].earlier);
  EXPECT_EQ(looks[1].earlier->serial_hex, stored.serial_hex);
  ASSERT_FALSE(looks[2].authorization.ok());
  EXPECT_EQ(looks[2].authorization.error().reason, "DUPLICATE_KEY");
  ASSERT_FALSE(looks[3].authorization.ok());
  EXPECT_EQ(looks[3].authorization.error().reason, "DUPLICATE_DEVICE");
}

// A step refused after it used up a code gives the code back, and the batch
// goes on: the code still works once.
TEST_P(StoreContractTest, AStepRefusedAfterUsingACodeGivesTheCodeBack) {
  ASSERT_TRUE(MintCode("code-1").ok());
  ASSERT_TRUE(Commit({{OnePerDevice("d1", Key(1)), Issuance(2, "d1", Key(1))}}).ok());
  auto with_code = [](const std::string& device, const std::string& key) {
    policy::Reservation r = OnePerDevice(device, key);
    r.code_required = true;
    r.code_sha256 = policy::CodeHash("code-1");
    return r;
  };
  auto batch = store_->Begin();
  ASSERT_TRUE(batch.ok());
  // The code passes and is used up; then the device is found issued.
  Status refused = (*batch)->Atomically([&]() -> Status {
    ST_RETURN_IF_ERROR((*batch)->Reserve(with_code("d1", Key(2)), 0, 3));
    return (*batch)->Append(Issuance(3, "d1", Key(2)));
  });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "DUPLICATE_DEVICE");
  EXPECT_FALSE((*batch)->lost());
  ASSERT_TRUE((*batch)->Commit().ok());
  ASSERT_TRUE(Commit({{with_code("d3", Key(3)), Issuance(3, "d3", Key(3))}}).ok()) << "the code was given back";
  auto uses = store_->CheckUses();
  ASSERT_TRUE(uses.ok()) << uses.error().ToString();
  EXPECT_FALSE(uses->has_value()) << (*uses)->what;
}

TEST_P(StoreContractTest, CheckpointsKeepTheirBinaryTreeEdge) {
  const std::string edge("\x00\x01\xff\x80 edge", 9);
  ASSERT_TRUE(store_->AddCheckpoint({1, 1700000000000, "note one\n", edge}).ok());
  ASSERT_TRUE(store_->AddCheckpoint({2, 1700000000001, "note two\n", edge + edge}).ok());
  auto all = store_->Checkpoints(false);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].tree_edge, edge);
  EXPECT_EQ((*all)[1].note, "note two\n");
  auto latest = store_->Checkpoints(true);
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ((*latest)[0].size, 2u);
  EXPECT_EQ((*latest)[0].tree_edge, edge + edge);
}

TEST_P(StoreContractTest, ALotIsStagedThenImportedWhole) {
  ASSERT_TRUE(store_->StageLotIds("upload-1", {"d1", "d2"}).ok());
  Status twice = store_->StageLotIds("upload-1", {"d3", "d1"});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().reason, "LOT_INVALID");
  auto batch = store_->Begin();
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE((*batch)->Append(Officer(1)).ok());
  ASSERT_TRUE((*batch)->ImportLot({"L1", "default", "lot.csv", "officer-1"}, "upload-1", 1700000000000).ok());
  ASSERT_TRUE((*batch)->Commit().ok());
  auto lots = store_->Lots();
  ASSERT_TRUE(lots.ok());
  ASSERT_EQ(lots->size(), 1u);
  EXPECT_EQ((*lots)[0].name, "L1");
  EXPECT_EQ((*lots)[0].devices, 2);  // the failed second call staged nothing
}

TEST_P(StoreContractTest, AReadOnlyStoreRefusesToWrite) {
  store_.reset();
  auto opened = GetParam() == "postgres" ? OpenPostgresStore(pg_->Options("station-a", false))
                                         : OpenSqliteStore(dir_.path() + "/audit.db", {.read_write = false});
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  auto batch = (*opened)->Begin();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().reason, "STORE_READ_ONLY");
}

INSTANTIATE_TEST_SUITE_P(EveryStore, StoreContractTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace station::store
