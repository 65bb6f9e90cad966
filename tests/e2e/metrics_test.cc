// GET /metrics of a real station-server: Prometheus' text format that
// promtool accepts, figures that follow what the line did, and a listener
// that answers nothing but GET and HEAD /metrics.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>

#include "station/base/files.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station {
namespace {

using testing::ProgramPath;
using testing::RunCommand;
using testing::ServerCommand;

// install-deps unpacks promtool from Debian's prometheus package here.
std::string Promtool() {
  const char* env = std::getenv("PROMTOOL");
  return env != nullptr ? env : "/usr/local/lib/signing-station/promtool";
}

// One HTTP exchange with the listener at "127.0.0.1:PORT": what came back.
std::string Http(const std::string& address, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// The value of the sample named exactly `series` ("name{label=\"v\"}"), or -1.
double Sample(const std::string& text, const std::string& series) {
  const std::string at = "\n" + series + " ";
  const size_t i = text.find(at);
  return i == std::string::npos ? -1 : std::stod(text.substr(i + at.size()));
}

TEST(MetricsTest, AScrapeFollowsTheLineAndPassesPromtool) {
  ASSERT_EQ(::access(Promtool().c_str(), X_OK), 0) << Promtool() << " is missing: run ops/install-deps";
  auto dev = testing::MakeDevStation();
  ASSERT_TRUE(dev);
  auto conf = base::ReadFile(dev->setup.station_conf);
  ASSERT_TRUE(conf.ok());
  ASSERT_TRUE(base::WriteFile(dev->setup.station_conf, *conf + "\n[metrics]\nlisten = \"127.0.0.1:0\"\n").ok());
  testing::Background server(ServerCommand({"--config", dev->setup.station_conf}));
  const std::string address = server.WaitForListening();
  ASSERT_FALSE(address.empty()) << server.log();
  std::smatch found;
  const std::string log = server.log();
  ASSERT_TRUE(std::regex_search(log, found, std::regex("metrics on http://([0-9.]+:[0-9]+)/metrics"))) << log;
  const std::string metrics = found[1];

  auto sim = RunCommand({ProgramPath("station-line"), "--config", dev->setup.line_conf, "--target", address,
                         "simulate", "--devices", "20", "--streams", "2", "--profile", "aws-iot-device"});
  ASSERT_EQ(sim.exit_code, 0) << sim.output;
  auto refused = RunCommand({ProgramPath("station-line"), "--config", dev->setup.line_conf, "--target", address,
                             "simulate", "--devices", "1", "--profile", "no-such-profile"});
  EXPECT_NE(refused.exit_code, 0);
  // Refusals are logged with the line, the request id and the reason (rate-limited).
  EXPECT_TRUE(std::regex_search(server.log(), std::regex("refused line-[0-9a-f]+ request '[^']+': PERMISSION_DENIED "
                                                         "UNKNOWN_PROFILE")))
      << server.log();

  const std::string reply = Http(metrics, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply.substr(0, 200);
  EXPECT_NE(reply.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  const std::string body = reply.substr(reply.find("\r\n\r\n") + 4);
  EXPECT_EQ(Sample(body, "station_certificates_issued_total{profile=\"aws-iot-device\"}"), 20) << body;
  EXPECT_EQ(Sample(body, "station_certificates_issued_total{profile=\"fleet-claim\"}"), 0) << "known profiles show 0";
  EXPECT_EQ(Sample(body, "station_requests_refused_total{reason=\"UNKNOWN_PROFILE\"}"), 1) << body;
  EXPECT_EQ(Sample(body, "station_request_duration_seconds_count"), 21) << body;
  EXPECT_EQ(Sample(body, "station_sign_duration_seconds_count"), 20) << body;
  EXPECT_GE(Sample(body, "station_audit_commit_duration_seconds_count"), 1) << body;
  EXPECT_EQ(Sample(body, "station_audit_log_size"), 20) << body;
  EXPECT_EQ(Sample(body, "station_issuance_halted"), 0);
  EXPECT_EQ(Sample(body, "station_token_up"), 1);
  EXPECT_EQ(Sample(body, "station_queue_depth"), 0);
  EXPECT_GT(Sample(body, "station_ca_not_after_timestamp_seconds{ca=\"station-ca\"}"), 1.7e9) << body;
  EXPECT_GT(Sample(body, "station_ca_not_after_timestamp_seconds{ca=\"claim-ca\"}"), 1.7e9) << body;
  EXPECT_EQ(Sample(body, "station_registration_codes_unused{profile=\"fleet-claim\"}"), 0) << body;
  EXPECT_EQ(Sample(body, "station_build_info{version=\"0.1.0\"}"), 1) << body;
  ASSERT_TRUE(base::WriteFile(dev->dir.path() + "/scrape.txt", body).ok());
  auto promtool = RunCommand({"/bin/sh", "-c", Promtool() + " check metrics < " + dev->dir.path() + "/scrape.txt"});
  EXPECT_EQ(promtool.exit_code, 0) << promtool.output;

  // Nothing but GET and HEAD /metrics; a HEAD has no body.
  EXPECT_EQ(Http(metrics, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(Http(metrics, "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(Http(metrics, "nonsense\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(Http(metrics, "GET /metrics HTTP/1.1\r\n" + std::string(9000, 'x')).rfind("HTTP/1.1 431", 0), 0u);
  const std::string head = Http(metrics, "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");
  // A client that says nothing holds the listener 2 s at most.
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(metrics.substr(metrics.rfind(':') + 1))));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ASSERT_EQ(::connect(silent, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(Http(metrics, "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  ::close(silent);
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
}

// The alert rules docs/operations.md offers are rules Prometheus loads.
TEST(MetricsTest, TheDocumentedAlertRulesLoad) {
  ASSERT_EQ(::access(Promtool().c_str(), X_OK), 0) << Promtool() << " is missing: run ops/install-deps";
  auto doc = base::ReadFile(std::string(STATION_SOURCE_DIR) + "/docs/operations.md");
  ASSERT_TRUE(doc.ok());
  const size_t start = doc->find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = doc->find("\n```", start + 8);
  testing::TempDir dir;
  ASSERT_TRUE(base::WriteFile(dir.path() + "/rules.yml", doc->substr(start + 8, end - start - 7)).ok());
  auto check = RunCommand({Promtool(), "check", "rules", dir.path() + "/rules.yml"});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("SUCCESS: 6 rules found"), std::string::npos) << check.output;
}

}  // namespace
}  // namespace station
