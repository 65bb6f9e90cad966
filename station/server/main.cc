// station-server --config FILE [--listen HOST:PORT] [--allow-root]
//
// Refuses to run as root unless --allow-root says so on purpose: run it as
// its own user (ops/station-server.service).
// Prints "listening on HOST:PORT" on stderr when it is ready. SIGTERM or
// SIGINT: stop accepting, finish in-flight requests, make the audit log
// durable, exit 0. Under systemd (Type=notify) it says READY=1 once
// listening, STATUS= every few seconds and STOPPING=1 at the stop signal.
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "station/base/args.h"
#include "station/base/log.h"
#include "station/base/version.h"
#include "station/pki/cert_builder.h"
#include "station/server/server.h"
#include "station/server/systemd_notify.h"

using namespace station;

namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(10);

// Exit codes a supervisor can act on (sysexits.h's numbers). The unit's
// RestartPreventExitStatus= lists those a restart cannot cure.
constexpr int kExitUsage = 2;         // a wrong command line
constexpr int kExitLogBroken = 65;    // EX_DATAERR: the audit log or registry does not verify
constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: the token or the store is away; a restart may find it
constexpr int kExitConfig = 78;       // EX_CONFIG: the configuration, a file it names, or the PIN is wrong

int ExitCode(const Error& e) {
  if (e.reason == "USAGE") return kExitUsage;
  if (e.code == Code::kDataLoss) return kExitLogBroken;
  // A refused PIN is never offered again by a restart: a token counts them.
  if (e.reason == "TOKEN_LOGIN_FAILED" || e.reason == "PIN_UNAVAILABLE") return kExitConfig;
  if (e.code == Code::kUnavailable || e.reason == "TOKEN_NOT_FOUND") return kExitUnavailable;
  if (e.code == Code::kFailedPrecondition || e.code == Code::kInvalidArgument || e.code == Code::kNotFound ||
      e.code == Code::kPermissionDenied || e.code == Code::kAlreadyExists)
    return kExitConfig;
  return 1;
}

// What `systemctl status` shows: the counts and whether it can issue.
std::string StatusLine(runtime::Station& station) {
  const auto stats = station.pipeline().stats();
  const Status ready = station.Readiness();
  return "issued " + std::to_string(stats.issued) + ", replayed " + std::to_string(stats.replayed) + ", refused " +
         std::to_string(stats.failed) + "; audit log at seq " + std::to_string(station.audit_last_seq()) + "; " +
         (ready.ok() ? "SERVING" : "NOT_SERVING: " + ready.error().reason);
}

int Fail(const Error& e) {
  base::LogError("station-server: " + e.ToString());
  return ExitCode(e);
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals in every thread; this one waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // waited for too, so that it never kills the server
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // No core dumps, and no debugger of the same user reads the PIN or the TLS key out of it.
  ::prctl(PR_SET_DUMPABLE, 0);

  auto args = base::Args::Parse(argc, argv, 1, {"config", "listen"}, {"help", "version", "allow-root"});
  if (!args.ok()) return Fail(args.error());
  if (args->Has("version")) {
    std::printf("%s\n", base::VersionLine("station-server").c_str());
    return 0;
  }
  if (args->Has("help") || !args->Has("config")) {
    std::fprintf(args->Has("help") ? stdout : stderr,
                 "usage: station-server --config FILE [--listen HOST:PORT (default: the config's listen)] "
                 "[--allow-root]\n"
                 "       station-server --version\n"
                 "Serves station.v1.LineSigner and Officer over mutual TLS, grpc.health.v1 and reflection, and with\n"
                 "[metrics] listen GET /metrics. Prints \"listening on HOST:PORT\" when ready. SIGTERM or SIGINT:\n"
                 "finish in-flight requests, sign a last checkpoint, exit 0; SIGHUP is logged and ignored.\n"
                 "Exit codes: 2 command line, 65 audit log or registry broken, 69 token or store away,\n"
                 "78 configuration or PIN wrong. Configuration: /usr/share/doc/signing-station/docs/.\n");
    return args->Has("help") ? 0 : 2;
  }
  if (::geteuid() == 0) {
    if (!args->Has("allow-root"))
      return Fail(MakeError(Code::kFailedPrecondition, "RUNS_AS_ROOT",
                            "station-server refuses to run as root: a flaw in it would own the machine and the "
                            "token's PIN. Run it as its own user (ops/station-server.service does), or pass "
                            "--allow-root on purpose (a development machine)"));
    base::LogWarning("running as root (--allow-root); run a production station as its own user");
  }
  auto config = config::LoadStationConfig(*args->Get("config"));
  if (!config.ok()) return Fail(config.error());
  // station-bench measures what a durable audit log costs; nothing else may
  // turn it off, and no config file can.
  if (const char* undurable = std::getenv("STATION_BENCH_UNDURABLE_AUDIT"); undurable && std::string(undurable) == "1") {
    config->audit.bench_undurable = true;
    base::LogWarning("STATION_BENCH_UNDURABLE_AUDIT=1: audit records are not synced to disk; a crash loses "
                  "certificates already answered. For station-bench only, never on a line.");
  }
  unsetenv("STATION_BENCH_UNDURABLE_AUDIT");
  auto server = server::StationServer::Start(*config, args->Get("listen", ""));
  if (!server.ok()) return Fail(server.error());
  const auto& ca = *(*server)->station().ca();  // a station starts with an active CA
  base::LogInfo("issuing CA '" + pki::NameText(X509_get_subject_name(ca.cert())) + "' (" +
                hsm::KeyAlgorithmName(ca.token_key().algorithm()) + ", key '" + ca.token_key().label() +
                "' on token '" + ca.token_key().token().label() + "'); " +
                std::to_string(config->issuance.pipeline.worker_count()) + " workers; audit log " + config->store_name() + " at seq " +
                std::to_string((*server)->station().audit_last_seq()));
  if (const std::string metrics = (*server)->metrics_address(); !metrics.empty())
    base::LogInfo("metrics on http://" + metrics + "/metrics");
  std::fprintf(stderr, "listening on %s\n", (*server)->address().c_str());
  std::fflush(stderr);
  server::NotifySystemd("READY=1\nSTATUS=" + StatusLine((*server)->station()));

  // Every few seconds until a stop signal: the status line systemd shows.
  const timespec status_every{5, 0};
  int signal_number = 0;
  for (;;) {
    signal_number = sigtimedwait(&stop_signals, nullptr, &status_every);
    if (signal_number == SIGTERM || signal_number == SIGINT) break;
    if (signal_number == SIGHUP)
      base::LogInfo("SIGHUP ignored: nothing is reloaded while running (officers' changes apply at once; a "
                    "changed config, profile or CRL at the next restart)");
    server::NotifySystemd("STATUS=" + StatusLine((*server)->station()));
  }
  server::NotifySystemd("STOPPING=1\nSTATUS=stopping: finishing in-flight requests");
  base::LogInfo(std::string("received ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") +
                "; finishing in-flight requests");
  (*server)->Shutdown(kShutdownGrace);
  auto stats = (*server)->station().pipeline().stats();
  base::LogInfo("stopped; issued " + std::to_string(stats.issued) + ", replayed " + std::to_string(stats.replayed) +
                ", refused " + std::to_string(stats.failed) + "; audit log durable at seq " +
                std::to_string((*server)->station().audit_last_seq()) + " (" +
                std::to_string((*server)->station().audit_commits()) + " commits since start)");
  // Everything is durable and closed: the audit log committed, the token
  // finalized. Skip static teardown, where gRPC waits seconds for its own threads.
  server->reset();
  std::fflush(nullptr);
  std::_Exit(0);
}
