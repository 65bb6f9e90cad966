// Crash safety: lines stream CSRs to a real station-server while it is killed
// with SIGKILL at random moments and restarted, again and again. Afterwards:
// every certificate a line received is the one the audit log holds for its
// request, `stationctl audit verify` passes, no serial, request or device
// appears twice, and every interrupted request, retried, got its original
// certificate or a fresh one, never two.
//
// ctest runs 50 kills. tests/stress/crash.sh runs it for as long as you ask:
//   STATION_CRASH_KILLS       kills to make (default 50)
//   STATION_CRASH_SECONDS     stop killing after this long, whichever comes first (default 600)
//   STATION_CRASH_STREAMS     lines streaming at once (default 3)
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "station/client/channel.h"
#include "station/v1/station.grpc.pb.h"
#include "tests/support/audit_db.h"
#include "tests/support/csr_factory.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station::testing {
namespace {

using Clock = std::chrono::steady_clock;

long EnvNumber(const char* name, long fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtol(text, nullptr, 10) : fallback;
}

// What lines saw, over all streams.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> received;  // request_id -> certificate_id
  std::map<std::string, int> attempts;           // request_id -> times sent
  size_t interrupted = 0;                        // sent, then the stream broke before the answer
  std::vector<std::string> problems;
};

// One line: a pipelined SignStream, reopened whenever the server dies, that
// resends every request it has no answer for, with its request_id and CSR.
class Line {
 public:
  Line(int index, const config::LineConfig& config, Ledger& ledger, const std::atomic<bool>& stop)
      : index_(index), config_(config), ledger_(ledger), stop_(stop) {}

  void Run(Clock::time_point give_up) {
    while (Clock::now() < give_up) {
      if (stop_ && queue_.empty()) return;
      auto channel = client::MakeChannel(config_);
      if (!channel.ok()) return Problem("channel: " + channel.error().ToString());
      auto stub = v1::LineSigner::NewStub(*channel);
      grpc::ClientContext ctx;
      ctx.set_wait_for_ready(true);  // across the restart
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      auto stream = stub->SignStream(&ctx);
      std::map<std::string, Item> pending;
      bool open = Fill(*stream, pending);
      v1::SignResponse response;
      while (open && !pending.empty() && stream->Read(&response)) {
        Answer(response, pending);
        open = Fill(*stream, pending);
      }
      if (pending.empty() && stop_ && queue_.empty()) {
        stream->WritesDone();
        stream->Finish();
        return;
      }
      ctx.TryCancel();
      stream->Finish();
      std::lock_guard<std::mutex> lock(ledger_.mu);
      ledger_.interrupted += pending.size();
      for (auto& [id, item] : pending) queue_.push_front(std::move(item));
    }
    Problem("gave up with " + std::to_string(queue_.size()) + " requests unanswered");
  }

 private:
  struct Item {
    std::string id;
    Bytes csr;
  };

  // Sends until `window` requests are in flight: retries first, then new devices.
  bool Fill(grpc::ClientReaderWriter<v1::SignRequest, v1::SignResponse>& stream, std::map<std::string, Item>& pending) {
    while (pending.size() < kWindow) {
      Item item;
      if (!queue_.empty()) {
        item = std::move(queue_.front());
        queue_.pop_front();
      } else if (!stop_) {
        item.id = "line" + std::to_string(index_) + "-" + std::to_string(next_++);
        item.csr = MakeCsr("ec-p256", item.id).der;
      } else {
        return true;
      }
      v1::SignRequest request;
      request.set_request_id(item.id);
      request.set_device_id(item.id);
      request.set_csr_der(item.csr.data(), item.csr.size());
      {
        std::lock_guard<std::mutex> lock(ledger_.mu);
        ++ledger_.attempts[item.id];
      }
      std::string id = item.id;
      pending.emplace(id, std::move(item));
      if (!stream.Write(request)) return false;
    }
    return true;
  }

  void Answer(const v1::SignResponse& response, std::map<std::string, Item>& pending) {
    auto it = pending.find(response.request_id());
    if (it == pending.end()) return Problem("an answer to no request: " + response.request_id());
    if (response.code() == grpc::StatusCode::UNAVAILABLE || response.code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      queue_.push_back(std::move(it->second));  // the station asked for a retry
      pending.erase(it);
      return;
    }
    const std::string id = it->first;
    pending.erase(it);
    if (response.code() != 0)
      return Problem(id + ": " + response.reason() + ": " + response.message());
    if (Hex(Sha256(response.certificate_der())) != response.certificate_id())
      return Problem(id + ": certificate_id is not the certificate's SHA-256");
    std::lock_guard<std::mutex> lock(ledger_.mu);
    if (!ledger_.received.emplace(id, response.certificate_id()).second)
      ledger_.problems.push_back(id + ": answered twice");
  }

  void Problem(const std::string& what) {
    std::lock_guard<std::mutex> lock(ledger_.mu);
    ledger_.problems.push_back("line " + std::to_string(index_) + ": " + what);
  }

  static constexpr size_t kWindow = 32;
  const int index_;
  const config::LineConfig config_;
  Ledger& ledger_;
  const std::atomic<bool>& stop_;
  std::deque<Item> queue_;  // to send: retries first
  size_t next_ = 0;
};

TEST(CrashTest, SigkillAtRandomLosesNoRecordAndIssuesNothingTwice) {
  const long kills_wanted = EnvNumber("STATION_CRASH_KILLS", 50);
  const auto kill_for = std::chrono::seconds(EnvNumber("STATION_CRASH_SECONDS", 600));
  const long streams = EnvNumber("STATION_CRASH_STREAMS", 3);

  auto dev = MakeDevStation();
  ASSERT_TRUE(dev);
  const std::vector<std::string> server_argv = ServerCommand({"--config", dev->setup.station_conf});
  auto server = std::make_unique<Background>(server_argv);
  const std::string address = server->WaitForListening();
  ASSERT_FALSE(address.empty()) << server->log();
  auto line_config = config::LoadLineConfig(dev->setup.line_conf);
  ASSERT_TRUE(line_config.ok());
  line_config->target = address;

  Ledger ledger;
  std::atomic<bool> stop{false};
  const auto give_up = Clock::now() + kill_for + std::chrono::seconds(120);
  std::vector<std::thread> lines;
  for (long i = 0; i < streams; ++i)
    lines.emplace_back([&, i] { Line(static_cast<int>(i), *line_config, ledger, stop).Run(give_up); });

  // Kill at random moments: mid-stream, mid-commit, and now and then at once
  // after the restart, while the station is still opening.
  std::mt19937 rng(std::random_device{}());
  const auto kill_until = Clock::now() + kill_for;
  long kills = 0;
  while (kills < kills_wanted && Clock::now() < kill_until) {
    const int wait_ms = std::uniform_int_distribution<int>(0, 9)(rng) == 0
                            ? 0
                            : std::uniform_int_distribution<int>(50, 700)(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    ASSERT_EQ(server->Stop(SIGKILL), 128 + SIGKILL);
    ++kills;
    server = std::make_unique<Background>(
        ServerCommand({"--config", dev->setup.station_conf, "--listen", address}));
    ASSERT_EQ(server->WaitForListening(), address) << "restart " << kills << ": " << server->log();
  }
  stop = true;  // lines finish what they have in hand, retrying the interrupted
  for (auto& t : lines) t.join();
  ASSERT_EQ(server->Stop(SIGTERM), 0) << server->log();

  for (const std::string& p : ledger.problems) ADD_FAILURE() << p;
  size_t retried = 0, retries = 0;
  for (const auto& [id, n] : ledger.attempts) {
    retried += n > 1;
    retries += static_cast<size_t>(n - 1);
  }

  // The log, as the server left it.
  auto verify = RunCommand({ProgramPath("stationctl"), "audit", "verify", "--config", dev->setup.station_conf});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  const std::string db = dev->config.audit_db_path();
  EXPECT_EQ(QueryColumn(db, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  EXPECT_TRUE(QueryColumn(db, "SELECT serial_hex FROM issuance GROUP BY serial_hex HAVING COUNT(*) > 1").empty());
  EXPECT_TRUE(QueryColumn(db, "SELECT request_id FROM issuance GROUP BY caller, request_id HAVING COUNT(*) > 1").empty());
  EXPECT_TRUE(QueryColumn(db, "SELECT device_id FROM issuance GROUP BY profile, device_id HAVING COUNT(*) > 1").empty());
  std::map<std::string, std::string> logged;  // request_id -> certificate_id
  for (const std::string& row : QueryColumn(db, "SELECT request_id || ' ' || certificate_id FROM issuance"))
    logged[row.substr(0, row.find(' '))] = row.substr(row.find(' ') + 1);

  // Every certificate received is the logged one for its request (for a
  // retried request: its original, or the fresh one the retry got).
  size_t missing = 0, differing = 0;
  for (const auto& [id, certificate_id] : ledger.received) {
    auto it = logged.find(id);
    if (it == logged.end()) {
      ++missing;
      ADD_FAILURE() << id << ": received, but not in the audit log";
    } else if (it->second != certificate_id) {
      ++differing;
      ADD_FAILURE() << id << ": received a certificate other than the logged one";
    }
  }
  // Every request was answered in the end, so the log holds nothing no line got.
  EXPECT_EQ(logged.size(), ledger.received.size());
  EXPECT_EQ(ledger.received.size(), ledger.attempts.size());
  if (std::getenv("STATION_CRASH_SECONDS") == nullptr) {
    EXPECT_EQ(kills, kills_wanted);
  }
  std::printf("crash test: %ld kills survived, %zu certificates received and checked against the log, "
              "%zu requests retried (%zu retries; %zu sends cut off by a kill), %zu missing, %zu differing\n",
              kills, ledger.received.size(), retried, retries, ledger.interrupted, missing, differing);
}

}  // namespace
}  // namespace station::testing
