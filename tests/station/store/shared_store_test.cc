// The shared store with several stations on one real PostgreSQL: a device,
// a key and a code are taken once whichever station asks, racers included;
// each station keeps its own log; a database that goes away and comes back
// costs requests, never a record, and needs no restart.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "station/base/bytes.h"
#include "station/store/pg_store.h"
#include "tests/support/dev_postgres.h"

namespace station::store {
namespace {

AuditRecord Issuance(uint64_t seq, const std::string& device, const std::string& key, const std::string& caller) {
  AuditRecord r;
  r.seq = seq;
  r.time_unix_ms = 1700000000000;
  r.request_id = "req-" + key.substr(0, 12);
  r.caller = caller;
  r.device_id = device;
  r.profile = "default";
  r.serial_hex = key.substr(0, 20);
  r.certificate_der = Bytes{0x30, 0x01};
  r.spki_sha256 = key;
  r.prev_hash = std::string(64, '0');
  r.record_hash = Hex(Sha256(key));
  return r;
}

std::string Key(const std::string& name) { return Hex(Sha256(name)); }

policy::Reservation OnePerDevice(const std::string& device, const std::string& key) {
  policy::Reservation r;
  r.profile = "default";
  r.device_id = device;
  r.spki_sha256 = key;
  r.one_per_device = true;
  return r;
}

// Reserves and appends one record as `seq` in a batch of its own.
Status IssueOne(Store& store, const policy::Reservation& reservation, AuditRecord record) {
  ST_ASSIGN_OR_RETURN(std::unique_ptr<Batch> batch, store.Begin());
  ST_RETURN_IF_ERROR(batch->Atomically([&]() -> Status {
    ST_ASSIGN_OR_RETURN(record.authorization, batch->Reserve(reservation, record.time_unix_ms, record.seq));
    return batch->Append(record);
  }));
  return batch->Commit();
}

// Code `code` of profile default, minted by officer record 1 (batch "mint-1").
Status MintCode(Store& store, const std::string& code) {
  ST_ASSIGN_OR_RETURN(std::unique_ptr<Batch> batch, store.Begin());
  AuditRecord mint;
  mint.kind = RecordKind::kOfficer;
  mint.seq = 1;
  mint.request_id = "mint-1";
  mint.record_hash = Hex(Sha256("mint"));
  ST_RETURN_IF_ERROR(batch->Append(mint));
  ST_RETURN_IF_ERROR(batch->AddCodes("default", "mint-1", {{policy::CodeHash(code), 4102444800000}}));
  return batch->Commit();
}

class SharedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pg_.ok()) << pg_.error(); }

  std::shared_ptr<Store> Station(const std::string& id) {
    auto opened = OpenPostgresStore(pg_.Options(id));
    EXPECT_TRUE(opened.ok()) << opened.error().ToString();
    return opened.ok() ? *opened : nullptr;
  }

  testing::DevPostgres pg_;
};

TEST_F(SharedStoreTest, TheSameDeviceAndKeyAtTwoStationsAreTakenOnce) {
  auto a = Station("line-a"), b = Station("line-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(IssueOne(*a, OnePerDevice("dev-1", Key("k1")), Issuance(1, "dev-1", Key("k1"), "line-1")).ok());

  auto device = b->CheckReservation(OnePerDevice("dev-1", Key("k2")), 0);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.error().reason, "DUPLICATE_DEVICE");
  EXPECT_NE(device.error().message.find("audit seq 1 of station line-a"), std::string::npos) << device.error().message;
  Status in_batch = IssueOne(*b, OnePerDevice("dev-1", Key("k2")), Issuance(1, "dev-1", Key("k2"), "line-2"));
  ASSERT_FALSE(in_batch.ok());
  EXPECT_EQ(in_batch.error().reason, "DUPLICATE_DEVICE");
  Status key = IssueOne(*b, OnePerDevice("dev-2", Key("k1")), Issuance(1, "dev-2", Key("k1"), "line-2"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().reason, "DUPLICATE_KEY");

  // Each station's log is its own: station b's first record is its seq 1.
  ASSERT_TRUE(IssueOne(*b, OnePerDevice("dev-3", Key("k3")), Issuance(1, "dev-3", Key("k3"), "line-2")).ok());
  EXPECT_EQ(a->CountRecords()->records, 1u);
  EXPECT_EQ(b->CountRecords()->records, 1u);
  // A line's retry finds its answer at whichever station it asks.
  auto retried = b->FindByRequest("line-1", Issuance(1, "dev-1", Key("k1"), "line-1").request_id);
  ASSERT_TRUE(retried.ok() && retried->has_value());
  EXPECT_EQ((*retried)->device_id, "dev-1");
}

TEST_F(SharedStoreTest, EightStationsRacingForOneDeviceIssueOneCertificate) {
  constexpr int kRacers = 8;
  std::vector<std::shared_ptr<Store>> stations;
  for (int i = 0; i < kRacers; ++i) stations.push_back(Station("racer-" + std::to_string(i)));
  std::barrier start(kRacers);
  std::atomic<int> issued{0}, duplicate{0};
  std::vector<std::string> other;
  std::mutex other_mu;
  std::vector<std::thread> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&, i] {
      const std::string key = Key("racer-key-" + std::to_string(i));
      start.arrive_and_wait();
      Status st = IssueOne(*stations[i], OnePerDevice("contested", key),
                           Issuance(1, "contested", key, "line-" + std::to_string(i)));
      if (st.ok()) {
        ++issued;
      } else if (st.error().reason == "DUPLICATE_DEVICE") {
        ++duplicate;
      } else {
        std::lock_guard<std::mutex> lock(other_mu);
        other.push_back(st.error().ToString());
      }
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(issued.load(), 1);
  EXPECT_EQ(duplicate.load(), kRacers - 1);
  EXPECT_TRUE(other.empty()) << other.front();
}

TEST_F(SharedStoreTest, ACodeIsUsedOnceWhicheverStationSeesIt) {
  auto a = Station("line-a"), b = Station("line-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(MintCode(*a, "c-1").ok());
  auto with_code = [](const std::string& device, const std::string& key) {
    policy::Reservation r = OnePerDevice(device, key);
    r.code_required = true;
    r.code_sha256 = policy::CodeHash("c-1");
    return r;
  };
  std::barrier start(2);
  Status at_a, at_b;
  std::thread ta([&] {
    start.arrive_and_wait();
    at_a = IssueOne(*a, with_code("dev-a", Key("ka")), Issuance(2, "dev-a", Key("ka"), "line-1"));
  });
  std::thread tb([&] {
    start.arrive_and_wait();
    at_b = IssueOne(*b, with_code("dev-b", Key("kb")), Issuance(1, "dev-b", Key("kb"), "line-2"));
  });
  ta.join();
  tb.join();
  ASSERT_NE(at_a.ok(), at_b.ok()) << (at_a.ok() ? "" : at_a.error().ToString()) << " / "
                                  << (at_b.ok() ? "" : at_b.error().ToString());
  const Error& refused = at_a.ok() ? at_b.error() : at_a.error();
  EXPECT_EQ(refused.reason, "DEVICE_NOT_AUTHORIZED");
  EXPECT_NE(refused.message.find("used already"), std::string::npos) << refused.message;
}

// Write access to the database: a used code made unused again, and a reissue
// no approval vouches for, are found by the state check (the checks that scan
// issuance through its partial index on authorization).
TEST_F(SharedStoreTest, UseMarksTheRecordsDoNotVouchForAreFound) {
  auto a = Station("line-a");
  ASSERT_TRUE(a);
  ASSERT_TRUE(MintCode(*a, "c-1").ok());
  policy::Reservation with_code = OnePerDevice("dev-a", Key("ka"));
  with_code.code_required = true;
  with_code.code_sha256 = policy::CodeHash("c-1");
  ASSERT_TRUE(IssueOne(*a, with_code, Issuance(2, "dev-a", Key("ka"), "line-1")).ok());
  auto honest = a->CheckUses();
  ASSERT_TRUE(honest.ok()) << honest.error().ToString();
  EXPECT_FALSE(honest->has_value()) << (*honest)->what;

  ASSERT_EQ(pg_.Sql("UPDATE registration_code SET used_station = NULL, used_seq = NULL").exit_code, 0);
  auto unused_again = a->CheckUses();
  ASSERT_TRUE(unused_again.ok()) << unused_again.error().ToString();
  ASSERT_TRUE(unused_again->has_value());
  EXPECT_EQ((*unused_again)->table, "registration_code") << (*unused_again)->what;
  ASSERT_EQ(pg_.Sql("UPDATE registration_code SET used_station = 'line-a', used_seq = 2").exit_code, 0);

  AuditRecord reissue = Issuance(3, "dev-b", Key("kb"), "line-1");
  reissue.authorization = "+reissue:officer-1";
  auto batch = a->Begin();
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE((*batch)->Append(reissue).ok());
  ASSERT_TRUE((*batch)->Commit().ok());
  auto unvouched = a->CheckUses();
  ASSERT_TRUE(unvouched.ok()) << unvouched.error().ToString();
  ASSERT_TRUE(unvouched->has_value());
  EXPECT_EQ((*unvouched)->table, "reissue_approval") << (*unvouched)->what;
}

TEST_F(SharedStoreTest, OneProcessWritesAStationsLog) {
  auto first = Station("line-a");
  ASSERT_TRUE(first);
  auto second = OpenPostgresStore(pg_.Options("line-a"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().reason, "STATION_ID_IN_USE");
  // Readers (audit verify, exports) are welcome.
  EXPECT_TRUE(OpenPostgresStore(pg_.Options("line-a", false)).ok());
}

TEST_F(SharedStoreTest, StationsWaitingOnEachOthersDevicesLoseOneBatchNotARecord) {
  auto a = Station("line-a"), b = Station("line-b");
  ASSERT_TRUE(a && b);
  // a takes X then wants Y; b takes Y then wants X: PostgreSQL breaks the
  // deadlock by failing one transaction, which the store reports as lost.
  std::barrier both_hold_one(2);
  Error conflict;
  std::atomic<int> conflicts{0}, committed{0};
  auto run = [&](Store& store, const std::string& first, const std::string& second, const std::string& tag) {
    auto batch = store.Begin();
    ASSERT_TRUE(batch.ok());
    ASSERT_TRUE((*batch)->Reserve(OnePerDevice(first, Key(tag + first)), 0, 1).ok());
    both_hold_one.arrive_and_wait();
    auto took = (*batch)->Reserve(OnePerDevice(second, Key(tag + second)), 0, 2);
    if (!took.ok()) {
      EXPECT_EQ(took.error().fault, Fault::kStoreConflict) << took.error().ToString();
      EXPECT_TRUE((*batch)->lost());
      conflict = took.error();
      ++conflicts;
      return;
    }
    ASSERT_TRUE((*batch)->Commit().ok());
    ++committed;
  };
  std::thread ta([&] { run(*a, "X", "Y", "a"); });
  std::thread tb([&] { run(*b, "Y", "X", "b"); });
  ta.join();
  tb.join();
  EXPECT_EQ(conflicts.load(), 1);
  EXPECT_EQ(committed.load(), 1);
  EXPECT_EQ(conflict.reason, "STORE_CONFLICT");
  EXPECT_EQ(conflict.code, Code::kAborted);
}

// Told their batches first (Batch::Expect), stations take all of a batch's
// locks at once and in one order: the batch that comes second waits for the
// first's commit and then sees its records, with no deadlock to break.
TEST_F(SharedStoreTest, StationsToldTheirBatchesFirstWaitForEachOtherInsteadOfDeadlocking) {
  auto a = Station("line-a"), b = Station("line-b");
  ASSERT_TRUE(a && b);
  std::barrier both_begun(2);
  std::atomic<int> issued{0}, refused{0};
  auto run = [&](Store& store, const std::string& first, const std::string& second, const std::string& tag) {
    auto batch = store.Begin();
    ASSERT_TRUE(batch.ok());
    both_begun.arrive_and_wait();
    const std::vector<std::string> devices = {first, second};
    std::vector<IssuanceAsked> asked;
    for (const std::string& d : devices) asked.push_back({"line-" + tag, "req-" + tag + d, OnePerDevice(d, Key(tag + d))});
    ASSERT_TRUE((*batch)->Expect(asked).ok());
    uint64_t seq = 0;
    for (const std::string& d : devices) {
      AuditRecord r = Issuance(++seq, d, Key(tag + d), "line-" + tag);
      Status step = (*batch)->Atomically([&]() -> Status {
        ST_ASSIGN_OR_RETURN(r.authorization, (*batch)->Reserve(OnePerDevice(d, Key(tag + d)), 0, seq));
        return (*batch)->Append(r);
      });
      if (step.ok()) {
        ++issued;
      } else {
        EXPECT_EQ(step.error().reason, "DUPLICATE_DEVICE") << step.error().ToString();
        ++refused;
        --seq;
      }
    }
    Status committed = (*batch)->Commit();
    EXPECT_TRUE(committed.ok()) << committed.error().ToString();
  };
  std::thread ta([&] { run(*a, "X", "Y", "a"); });
  std::thread tb([&] { run(*b, "Y", "X", "b"); });
  ta.join();
  tb.join();
  EXPECT_EQ(issued.load(), 2);
  EXPECT_EQ(refused.load(), 2);
  EXPECT_EQ(a->CountRecords()->records + b->CountRecords()->records, 2u);
}

// One request id sent to two stations at once gets one answer: the second
// station's batch waits on the request id's lock and then finds the first's
// record, instead of writing a second one for it. (A retry with the same CSR
// would also wait on its key's lock; the request id's lock holds even for a
// line that sends another CSR under the same id, which then gets
// REQUEST_ID_REUSED from the writer, not a lost batch.)
TEST_F(SharedStoreTest, OneRequestAtTwoStationsAtOnceGetsOneAnswer) {
  auto a = Station("line-a"), b = Station("line-b");
  ASSERT_TRUE(a && b);
  const AuditRecord first = Issuance(1, "dev-1", Key("k1"), "line-1");
  const IssuanceAsked asked{"line-1", first.request_id, OnePerDevice("dev-1", Key("k1"))};
  auto at_a = a->Begin();
  ASSERT_TRUE(at_a.ok());
  ASSERT_TRUE((*at_a)->Expect({asked}).ok());
  ASSERT_TRUE((*at_a)->Reserve(asked.reservation, 0, 1).ok());
  ASSERT_TRUE((*at_a)->Append(first).ok());
  std::atomic<bool> a_committed{false};
  Result<std::optional<AuditRecord>> found_at_b = std::optional<AuditRecord>();
  std::thread station_b([&] {
    auto at_b = b->Begin();
    ASSERT_TRUE(at_b.ok());
    const IssuanceAsked other_csr{asked.caller, asked.request_id, OnePerDevice("dev-2", Key("k2"))};
    ASSERT_TRUE((*at_b)->Expect({other_csr}).ok());
    EXPECT_TRUE(a_committed.load()) << "b's batch did not wait for the request's lock";
    found_at_b = (*at_b)->FindByRequest(asked.caller, asked.request_id);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // b is waiting now
  a_committed = true;
  ASSERT_TRUE((*at_a)->Commit().ok());
  station_b.join();
  ASSERT_TRUE(found_at_b.ok()) << found_at_b.error().ToString();
  ASSERT_TRUE(found_at_b->has_value());
  EXPECT_EQ((*found_at_b)->serial_hex, first.serial_hex);
}

// A record held back for the commit that collides there (a serial drawn
// twice: the batch's locks rule out the rest) loses that batch, and the run
// again writes record by record, where the collision refuses its record alone.
TEST_F(SharedStoreTest, ACollisionFoundAtCommitRunsTheBatchAgainRecordByRecord) {
  auto a = Station("line-a");
  ASSERT_TRUE(a);
  ASSERT_TRUE(IssueOne(*a, OnePerDevice("dev-1", Key("k1")), Issuance(1, "dev-1", Key("k1"), "line-1")).ok());
  AuditRecord same_serial = Issuance(2, "dev-2", Key("k2"), "line-1");
  same_serial.serial_hex = Issuance(1, "dev-1", Key("k1"), "line-1").serial_hex;
  AuditRecord other = Issuance(2, "dev-3", Key("k3"), "line-1");
  auto run = [&](Batch& batch, const AuditRecord& record) {
    const policy::Reservation reservation = OnePerDevice(record.device_id, record.spki_sha256);
    EXPECT_TRUE(batch.Expect({{record.caller, record.request_id, reservation}}).ok());
    return batch.Atomically([&]() -> Status {
      ST_RETURN_IF_ERROR(batch.Reserve(reservation, 0, record.seq));
      return batch.Append(record);
    });
  };
  {
    auto batch = a->Begin();
    ASSERT_TRUE(batch.ok());
    ASSERT_TRUE(run(**batch, same_serial).ok()) << "held back: the collision is not seen yet";
    Status committed = (*batch)->Commit();
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.error().reason, "STORE_CONFLICT");
    EXPECT_EQ(committed.error().fault, Fault::kStoreConflict);
  }
  auto again = a->Begin();
  ASSERT_TRUE(again.ok());
  Status refused = run(**again, same_serial);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "SERIAL_COLLISION");
  EXPECT_FALSE((*again)->lost());
  ASSERT_TRUE(run(**again, other).ok());
  ASSERT_TRUE((*again)->Commit().ok());
  EXPECT_EQ(a->CountRecords()->records, 2u);
}

TEST_F(SharedStoreTest, ADatabaseThatGoesAwayAndComesBackNeedsNoRestart) {
  auto a = Station("line-a");
  ASSERT_TRUE(a);
  ASSERT_TRUE(IssueOne(*a, OnePerDevice("d1", Key("k1")), Issuance(1, "d1", Key("k1"), "line-1")).ok());
  ASSERT_TRUE(pg_.Stop());
  Status down = IssueOne(*a, OnePerDevice("d2", Key("k2")), Issuance(2, "d2", Key("k2"), "line-1"));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().reason, "STORE_UNAVAILABLE") << down.error().ToString();
  EXPECT_EQ(down.error().code, Code::kUnavailable);
  auto read_down = a->CountRecords();
  ASSERT_FALSE(read_down.ok());
  EXPECT_EQ(read_down.error().reason, "STORE_UNAVAILABLE") << read_down.error().ToString();

  ASSERT_TRUE(pg_.Start()) << pg_.error();
  Status up = IssueOne(*a, OnePerDevice("d2", Key("k2")), Issuance(2, "d2", Key("k2"), "line-1"));
  ASSERT_TRUE(up.ok()) << up.error().ToString();
  auto count = a->CountRecords();
  ASSERT_TRUE(count.ok()) << count.error().ToString();
  EXPECT_EQ(count->records, 2u);
}

}  // namespace
}  // namespace station::store
