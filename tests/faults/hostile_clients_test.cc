// Hostile and broken clients against the real server: a 100 MB message,
// streams that send nothing, one line opening more than its share, a
// connection that never starts TLS, a client that sends without reading, one
// that disconnects mid-stream. Each is bounded, and a well-behaved line still gets
// its certificates.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "station/client/channel.h"
#include "station/v1/station.grpc.pb.h"
#include "tests/support/audit_db.h"
#include "tests/support/csr_factory.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station::testing {
namespace {

constexpr size_t kMaxStreams = 8;
constexpr size_t kMaxStreamsPerLine = 4;
constexpr size_t kMaxInflight = 16;

class HostileClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_ = MakeDevStation();
    ASSERT_TRUE(dev_);
    std::ofstream(dev_->setup.station_conf, std::ios::app)
        << "\n[limits]\nmax_streams = " << kMaxStreams << "\nmax_streams_per_line = " << kMaxStreamsPerLine
        << "\nmax_inflight_per_stream = " << kMaxInflight
        << "\nstream_idle_timeout = \"2s\"\nhandshake_timeout = \"2s\"\n";
    server_ = std::make_unique<Background>(ServerCommand({"--config", dev_->setup.station_conf}));
    const std::string address = server_->WaitForListening();
    ASSERT_FALSE(address.empty()) << server_->log();
    auto line = config::LoadLineConfig(dev_->setup.line_conf);
    ASSERT_TRUE(line.ok());
    line_ = *line;
    line_.target = address;
    address_ = address;
  }

  std::unique_ptr<v1::LineSigner::Stub> Stub(const std::function<void(grpc::ChannelArguments&)>& tune = {}) {
    auto channel = client::MakeChannel(line_, tune);
    EXPECT_TRUE(channel.ok());
    return v1::LineSigner::NewStub(*channel);
  }

  // A stub for another line, with its own client certificate.
  std::unique_ptr<v1::LineSigner::Stub> StubAs(const std::string& line) {
    auto channel = client::MakeChannel(LineAs(*dev_, address_, MakeClientIdentity(*dev_, line)));
    EXPECT_TRUE(channel.ok());
    return v1::LineSigner::NewStub(*channel);
  }

  using Stream = std::unique_ptr<grpc::ClientReaderWriter<v1::SignRequest, v1::SignResponse>>;
  // Opens `count` streams that send nothing; the contexts must outlive them.
  static void OpenIdle(v1::LineSigner::Stub& stub, size_t count,
                       std::vector<std::unique_ptr<grpc::ClientContext>>& contexts, std::vector<Stream>& streams) {
    for (size_t i = 0; i < count; ++i) {
      contexts.push_back(std::make_unique<grpc::ClientContext>());
      streams.push_back(stub.SignStream(contexts.back().get()));
    }
  }

  // A further stream of this stub is refused with `reason`.
  static void ExpectStreamRefused(v1::LineSigner::Stub& stub, const std::string& reason) {
    grpc::ClientContext ctx;
    auto extra = stub.SignStream(&ctx);
    v1::SignResponse response;
    EXPECT_FALSE(extra->Read(&response));
    grpc::Status refused = extra->Finish();
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(refused.error_message().rfind(reason + ":", 0), 0u) << refused.error_message();
  }

  // A unary Sign of this stub is refused with `reason`: a unary call in work
  // holds a slot like a stream, so many of them cannot get around the limits.
  static void ExpectUnaryRefused(v1::LineSigner::Stub& stub, const std::string& reason) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::SignResponse response;
    grpc::Status refused = stub.Sign(&ctx, Request("unary-refused"), &response);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(refused.error_message().rfind(reason + ":", 0), 0u) << refused.error_message();
  }

  // One request on a fresh stream of this stub is signed.
  void ExpectStreamServed(v1::LineSigner::Stub& stub, const std::string& id) {
    grpc::ClientContext ctx;
    auto fresh = stub.SignStream(&ctx);
    v1::SignResponse response;
    ASSERT_TRUE(fresh->Write(Request(id)));
    ASSERT_TRUE(fresh->Read(&response));
    EXPECT_EQ(response.code(), 0) << response.reason();
    fresh->WritesDone();
    EXPECT_TRUE(fresh->Finish().ok());
  }

  static v1::SignRequest Request(const std::string& id) {
    v1::SignRequest r;
    r.set_request_id(id);
    Bytes csr = MakeCsr("ec-p256", id).der;
    r.set_csr_der(csr.data(), csr.size());
    return r;
  }

  // A well-behaved line: one unary Sign, with a deadline.
  v1::SignResponse SignOne(const v1::SignRequest& request) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::SignResponse response;
    grpc::Status st = Stub()->Sign(&ctx, request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response;
  }

  void ExpectLineServed(const std::string& id) {
    v1::SignResponse r = SignOne(Request(id));
    EXPECT_EQ(r.code(), 0) << id << ": " << r.reason() << " " << r.message();
  }

  std::unique_ptr<DevStation> dev_;
  std::unique_ptr<Background> server_;
  config::LineConfig line_;
  std::string address_;
};

TEST_F(HostileClientTest, AHundredMegabyteMessageIsRefusedAndTheServerGoesOn) {
  v1::SignRequest huge;
  huge.set_request_id("huge");
  huge.set_csr_der(std::string(100 << 20, 'x'));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::SignResponse response;
  grpc::Status st = Stub()->Sign(&ctx, huge, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  ExpectLineServed("after-huge");
}

TEST_F(HostileClientTest, StreamsThatSendNothingAreCappedAndEnded) {
  // Two lines take every stream the station serves, each up to its own limit.
  auto stub = Stub();
  auto line_2 = StubAs("line-2");
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<Stream> idle;
  OpenIdle(*stub, kMaxStreamsPerLine, contexts, idle);
  OpenIdle(*line_2, kMaxStreams - kMaxStreamsPerLine, contexts, idle);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all of them open on the server

  ExpectStreamRefused(*StubAs("line-3"), "TOO_MANY_STREAMS");
  ExpectUnaryRefused(*StubAs("line-3"), "TOO_MANY_STREAMS");
  v1::SignResponse response;

  // After stream_idle_timeout (2 s) the station ends every one of them.
  for (auto& stream : idle) {
    EXPECT_FALSE(stream->Read(&response));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  ExpectStreamServed(*stub, "on-a-fresh-stream");
}

TEST_F(HostileClientTest, OneLineCannotTakeEveryStream) {
  auto stub = Stub();
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<Stream> idle;
  OpenIdle(*stub, kMaxStreamsPerLine, contexts, idle);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  ExpectStreamRefused(*stub, "TOO_MANY_STREAMS_FOR_LINE");
  ExpectUnaryRefused(*stub, "TOO_MANY_STREAMS_FOR_LINE");
  // The station has room, and another line gets it.
  auto line_2 = StubAs("line-2");
  ExpectStreamServed(*line_2, "line-2-while-line-1-is-full");
  v1::SignResponse unary;
  grpc::ClientContext unary_ctx;
  unary_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ASSERT_TRUE(line_2->Sign(&unary_ctx, Request("line-2-unary"), &unary).ok());
  EXPECT_EQ(unary.code(), 0) << unary.reason();
  // Once line-1 closes a stream, it may open one again.
  contexts.front()->TryCancel();
  idle.front()->Finish();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ExpectStreamServed(*stub, "line-1-after-closing-one");
}

TEST_F(HostileClientTest, AClientThatPingsTooOftenIsSentAway) {
  // The server allows a ping every 10 s without data, two strikes; this
  // client pings every 200 ms, with no call in flight.
  auto pinger = client::MakeChannel(line_, [](grpc::ChannelArguments& args) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 200);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  });
  auto polite = client::MakeChannel(line_);
  ASSERT_TRUE(pinger.ok() && polite.ok());
  for (auto* channel : {&*pinger, &*polite}) {
    v1::SignResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    ASSERT_TRUE(v1::LineSigner::NewStub(*channel)->Sign(&ctx, Request(channel == &*pinger ? "p" : "q"), &response).ok());
    ASSERT_EQ((*channel)->GetState(false), GRPC_CHANNEL_READY);
  }
  // GOAWAY (too many pings) takes the pinger's connection down; the polite
  // channel keeps its own.
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  while ((*pinger)->GetState(false) == GRPC_CHANNEL_READY && (*pinger)->WaitForStateChange(GRPC_CHANNEL_READY, deadline)) {
  }
  EXPECT_NE((*pinger)->GetState(false), GRPC_CHANNEL_READY) << "the server let a client ping every 200 ms";
  EXPECT_EQ((*polite)->GetState(false), GRPC_CHANNEL_READY);
  ExpectLineServed("after-the-pinger");
}

TEST_F(HostileClientTest, AConnectionThatNeverStartsTlsIsClosed) {
  // A stranger connects and says nothing: no ClientHello, no certificate.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address_.substr(address_.rfind(':') + 1))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval limit{20, 0};  // gRPC's own default would keep it for 120 s
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  const auto start = std::chrono::steady_clock::now();
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, 0);
  const auto waited = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(n, 0) << "the server did not close the connection (errno " << errno << ")";
  EXPECT_GE(waited, std::chrono::milliseconds(1500));  // handshake_timeout is 2 s: not closed at once
  ExpectLineServed("after-the-stranger");
}

TEST_F(HostileClientTest, AClientThatSendsWithoutReadingIsNotReadFurther) {
  constexpr int kFlood = 3000;
  std::vector<v1::SignRequest> flood;
  for (int i = 0; i < kFlood; ++i) flood.push_back(Request("flood-" + std::to_string(i)));
  grpc::ClientContext ctx;
  // A client whose receive window stays small (64 KiB): unread answers fill it soon.
  auto stub = Stub([](grpc::ChannelArguments& args) { args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0); });
  auto stream = stub->SignStream(&ctx);
  std::atomic<int> written{0};
  std::thread sender([&] {
    for (const auto& r : flood) {
      if (!stream->Write(r)) return;
      ++written;
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // Meanwhile another line is served.
  for (int i = 0; i < 20; ++i) ExpectLineServed("good-" + std::to_string(i));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // Unread answers stop the station reading: it took in what fits the
  // client's window and max_inflight_per_stream, not the flood (it signs
  // ~3,000 a second).
  auto taken = QueryColumn(dev_->config.audit_db_path(), "SELECT COUNT(*) FROM issuance WHERE request_id LIKE 'flood-%'");
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_LT(std::stoi(taken[0]), kFlood / 2) << "the station read the whole flood: answers pile up in its memory";
  std::printf("flood: %d of %d requests written by the client, %s taken in by the station\n", written.load(), kFlood,
              taken[0].c_str());
  ctx.TryCancel();
  sender.join();
  stream->Finish();
  // What the station did take in from it ended in the log or not at all, and
  // it answers the same certificate again.
  v1::SignResponse first = SignOne(flood[0]);
  EXPECT_EQ(first.code(), 0) << first.reason();
  EXPECT_EQ(SignOne(flood[0]).certificate_id(), first.certificate_id());
}

TEST_F(HostileClientTest, ADisconnectMidStreamLeavesEachRequestIssuedOnceOrNotAtAll) {
  constexpr int kRequests = 64;
  std::vector<v1::SignRequest> requests;
  for (int i = 0; i < kRequests; ++i) requests.push_back(Request("cut-" + std::to_string(i)));
  std::map<std::string, std::string> answered;  // request_id -> certificate_id
  {
    grpc::ClientContext ctx;
    auto stub = Stub();
    auto stream = stub->SignStream(&ctx);
    for (const auto& r : requests) ASSERT_TRUE(stream->Write(r));
    v1::SignResponse response;
    while (answered.size() < 5 && stream->Read(&response)) answered[response.request_id()] = response.certificate_id();
    ctx.TryCancel();  // gone, with most requests in flight
    stream->Finish();
  }
  // The line comes back and retries everything: answered ones get the same
  // certificate, the others exactly one (original or fresh).
  for (const auto& r : requests) {
    v1::SignResponse again = SignOne(r);
    ASSERT_EQ(again.code(), 0) << r.request_id() << ": " << again.reason();
    auto it = answered.find(r.request_id());
    if (it != answered.end()) {
      EXPECT_EQ(again.certificate_id(), it->second) << r.request_id();
    }
    EXPECT_EQ(SignOne(r).certificate_id(), again.certificate_id()) << r.request_id();
  }
  ASSERT_EQ(server_->Stop(SIGTERM), 0) << server_->log();
  auto verify = RunCommand({ProgramPath("stationctl"), "audit", "verify", "--config", dev_->setup.station_conf});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

// An officer certificate whose CN is not in [officers] members is refused on
// the first chunk of a lot, before any id is kept (it once could send a
// million ids to be buffered, and was refused only after the last).
TEST_F(HostileClientTest, ALotFromAnOfficerWhoIsNoMemberIsRefusedBeforeItsIdsAreRead) {
  auto channel = client::MakeChannel(LineAs(*dev_, address_, MakeClientIdentity(*dev_, "officer-9", {"officer"})));
  ASSERT_TRUE(channel.ok());
  auto officer = v1::Officer::NewStub(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::ImportLotResponse response;
  auto upload = officer->ImportLot(&ctx, &response);
  v1::ImportLotRequest chunk;
  chunk.set_lot("lot-x");
  chunk.set_profile("matter-dac");
  for (int i = 0; i < 1000; ++i) chunk.add_device_ids("m-" + std::to_string(i));
  upload->Write(chunk);  // and no WritesDone: the server must answer without waiting for the rest
  grpc::Status refused = upload->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused.error_message();
  EXPECT_EQ(refused.error_message().rfind("OFFICER_NOT_MEMBER:", 0), 0u) << refused.error_message();
}

}  // namespace
}  // namespace station::testing
