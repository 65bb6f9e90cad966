// station-bench: how fast the station issues certificates, against the limit
// of its token, on this machine. One command, from a clean build:
//
//   build/bin/station-bench [--seconds 5] [--ca-keys ec-p256,rsa-2048] [--naive 20]
//                           [--memory-factor 10] [--no-scaling] [--netsim LATENCY_US:SESSIONS[:SIGNERS],...]
//                           [--store URL --store-password-file FILE]
//
// Each CA key gets a fresh development station (its own SoftHSM token). It
// measures raw (C_Sign rate of the CA key with the station's sessions), e2e
// (certificates/s through the real server: gRPC, mutual TLS, CSR checks,
// policy, durable audit), latency at 50% and 100% of that rate, the server's
// memory before and after ten times as many certificates, what syncing the
// audit log costs, the naive baseline (openssl x509 -req per CSR), a scaling
// curve over workers, and the station in front of the simulated network HSM
// (bench/netsim). With --store (a PostgreSQL database, ops/dev-postgres): e2e
// on that shared store beside SQLite's, and two stations on it at once.
// JSON lines on stdout, a table on stderr; bench/README.md.
//
//   build/bin/station-bench raw --config station.conf --threads N --sessions N --seconds S
// is the raw measurement alone, in a process of its own (run by the above).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "bench/station_bench/naive.h"
#include "bench/station_bench/raw_sign.h"
#include "bench/station_bench/report.h"
#include "bench/station_bench/station_under_test.h"
#include "station/base/args.h"
#include "station/base/files.h"

namespace station::bench {
namespace {

// A network HSM: each signature takes latency_us; `sessions` at once. The
// station gets `signers` signing threads (0: two per session, so a session
// goes on signing while a thread checks the signature it just got) and its
// default workers.
struct NetsimCase {
  long latency_us = 2000;
  size_t sessions = 32;
  size_t signers = 0;
};

struct Options {
  double seconds = 5;
  std::vector<std::string> ca_keys = {"ec-p256", "rsa-2048"};
  size_t naive = 20;
  size_t memory_factor = 10;  // the memory run issues this many times the certificates before it
  bool scaling = true;
  std::vector<NetsimCase> netsim = {{2000, 32}};
  std::string store_url, store_password_file;  // --store: a PostgreSQL database
  std::string bin_dir, lib_dir;
};

using Fields = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(',', start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

size_t Cores() { return std::max(1u, std::thread::hardware_concurrency()); }

Result<RawResult> RawInChild(const Options& o, const std::string& conf, size_t threads, size_t sessions) {
  auto run = testing::RunCommand({o.bin_dir + "/station-bench", "raw", "--config", conf, "--threads",
                                 std::to_string(threads), "--sessions", std::to_string(sessions), "--seconds",
                                 std::to_string(static_cast<long>(o.seconds))},
                                static_cast<int>(o.seconds) + 120);
  if (run.exit_code != 0) return MakeError(Code::kInternal, "BENCH_RAW_FAILED", run.output);
  return ParseRawResult(run.output.substr(run.output.rfind('{')));
}

constexpr size_t kProbeDevices = 300;

// The highest rate the line reaches: a short run to find the order of it,
// then one of about `seconds`.
Result<client::SimulateSummary> MaxRate(const Options& o, const DevStation& st, const std::string& address,
                                        size_t streams) {
  client::SimulateOptions probe;
  probe.devices = kProbeDevices;
  probe.streams = streams;
  ST_ASSIGN_OR_RETURN(auto first, RunLine(st.line_conf(), address, probe));
  client::SimulateOptions full = probe;
  full.devices = std::clamp<size_t>(static_cast<size_t>(first.certs_per_second * o.seconds), 500, 500000);
  return RunLine(st.line_conf(), address, full);
}

Result<client::SimulateSummary> AtRate(const Options& o, const DevStation& st, const std::string& address,
                                       double rate) {
  client::SimulateOptions paced;
  paced.rate = static_cast<size_t>(std::max(1.0, rate));
  paced.devices = std::max<size_t>(200, static_cast<size_t>(rate * o.seconds));
  return RunLine(st.line_conf(), address, paced);
}

Fields Latency(const client::SimulateSummary& s) {
  return {{"certs_per_second", Report::Num(s.certs_per_second)}, {"p50_ms", Report::Num(s.p50_ms, 2)},
          {"p99_ms", Report::Num(s.p99_ms, 2)},                   {"p999_ms", Report::Num(s.p999_ms, 2)},
          {"max_ms", Report::Num(s.max_ms, 2)},                   {"certificates", std::to_string(s.issued)}};
}

Fields With(Fields head, const Fields& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// The simulated HSM's account of its time (bench/netsim/timing.h), as fields.
Fields NetsimTiming(const std::string& path) {
  auto text = base::ReadFile(path);
  double call = 0, init = 0, gap = 0;
  if (!text.ok() || std::sscanf(text->c_str(), "{\"signatures\":%*u,\"sign_call_us\":%lf,\"sign_init_us\":%lf,"
                                               "\"session_gap_us\":%lf", &call, &init, &gap) != 3)
    return {{"timing", Report::Str("missing: " + path)}};
  return {{"sign_call_us", Report::Num(call)}, {"sign_init_us", Report::Num(init)}, {"session_gap_us", Report::Num(gap)}};
}

// What a durable audit log costs: the same server with and without syncing
// its commits (STATION_BENCH_UNDURABLE_AUDIT=1), alternating, two rounds each.
Status DurabilityCost(const Options& o, const DevStation& st, const std::string& conf, const Fields& who,
                      Report& report) {
  double rate[2] = {0, 0};  // durable, not durable
  for (int round = 0; round < 4; ++round) {
    const bool undurable = round % 2 == 1;
    if (undurable) setenv("STATION_BENCH_UNDURABLE_AUDIT", "1", 1);
    auto server = ServerProcess::Start(o.bin_dir, conf);
    unsetenv("STATION_BENCH_UNDURABLE_AUDIT");
    if (!server.ok()) return server.error();
    ST_ASSIGN_OR_RETURN(auto max, MaxRate(o, st, (*server)->address(), 4));
    rate[undurable ? 1 : 0] += max.certs_per_second / 2;
  }
  report.Add("audit_sync", With(who, {{"durable_certs_per_second", Report::Num(rate[0])},
                                      {"undurable_certs_per_second", Report::Num(rate[1])},
                                      {"gain_without_sync", Report::Num(rate[1] / rate[0] - 1, 3)}}));
  return {};
}

// A [store] section for station `id` of the benchmark's database.
std::string StoreSection(const Options& o, const std::string& id) {
  return "\n[store]\nurl = \"" + o.store_url + "\"\npassword_file = \"" + o.store_password_file +
         "\"\nstation_id = \"" + id + "\"\n";
}

// The same station on the shared store at its highest rate, against SQLite:
// alternating, two rounds each, each on a server started anew (one run of
// either varies by 15% or more on a busy machine). Then a second station on
// the same database, both at once.
Status BenchSharedStore(const Options& o, const std::string& root, const DevStation& st,
                        const std::string& sqlite_conf, const Fields& who, Report& report) {
  const std::string run = std::to_string(::getpid());  // station ids new to the database
  Variant on_store;
  on_store.name = "store";
  on_store.store = StoreSection(o, "bench-" + run + "-a");
  ST_ASSIGN_OR_RETURN(std::string conf, st.WriteVariant(on_store));
  double rate[2] = {0, 0};  // SQLite, PostgreSQL
  client::SimulateSummary last;
  for (int round = 0; round < 4; ++round) {
    const bool shared = round % 2 == 1;
    ST_ASSIGN_OR_RETURN(auto server, ServerProcess::Start(o.bin_dir, shared ? conf : sqlite_conf));
    ST_ASSIGN_OR_RETURN(last, MaxRate(o, st, server->address(), 4));
    rate[shared ? 1 : 0] += last.certs_per_second / 2;
  }
  Fields latency = Latency(last);  // the last PostgreSQL round's, at the mean rate
  latency.front().second = Report::Num(rate[1]);
  report.Add("e2e_store", With(who, With({{"store", Report::Str("postgresql")},
                                          {"sqlite_certs_per_second", Report::Num(rate[0])},
                                          {"store_over_sqlite", Report::Num(rate[1] / rate[0], 3)}},
                                         latency)));
  ST_ASSIGN_OR_RETURN(DevStation second, DevStation::Make(o.bin_dir, root + "/second-station", st.ca_key()));
  Variant other = on_store;
  other.store = StoreSection(o, "bench-" + run + "-b");
  ST_ASSIGN_OR_RETURN(std::string second_conf, second.WriteVariant(other));
  ST_ASSIGN_OR_RETURN(auto a, ServerProcess::Start(o.bin_dir, conf));
  ST_ASSIGN_OR_RETURN(auto b, ServerProcess::Start(o.bin_dir, second_conf));
  Result<client::SimulateSummary> at_b = MakeError(Code::kInternal, "BENCH_LINE_FAILED", "not run");
  std::thread line_b([&] { at_b = MaxRate(o, second, b->address(), 4); });
  auto at_a = MaxRate(o, st, a->address(), 4);
  line_b.join();
  if (!at_a.ok()) return at_a.error();
  if (!at_b.ok()) return at_b.error();
  report.Add("two_stations", With(who, {{"store", Report::Str("postgresql")},
                                        {"station_a_certs_per_second", Report::Num(at_a->certs_per_second)},
                                        {"station_b_certs_per_second", Report::Num(at_b->certs_per_second)},
                                        {"total_certs_per_second",
                                         Report::Num(at_a->certs_per_second + at_b->certs_per_second)},
                                        {"p99_ms_a", Report::Num(at_a->p99_ms, 2)},
                                        {"p99_ms_b", Report::Num(at_b->p99_ms, 2)}}));
  return {};
}

Status BenchCaKey(const Options& o, const std::string& root, const std::string& ca_key, bool first, Report& report) {
  ST_ASSIGN_OR_RETURN(DevStation st, DevStation::Make(o.bin_dir, root + "/" + ca_key, ca_key));
  const size_t workers = Cores(), sessions = workers + 2;
  ST_ASSIGN_OR_RETURN(std::string conf, st.WriteVariant({}));
  ST_ASSIGN_OR_RETURN(RawResult raw, RawInChild(o, conf, workers, sessions));
  const Fields who = {{"ca_key", Report::Str(ca_key)}, {"cores", std::to_string(Cores())}};
  report.Add("raw", With(who, {{"threads", std::to_string(raw.threads)},
                               {"sessions", std::to_string(raw.sessions)},
                               {"signs_per_second", Report::Num(raw.per_second)},
                               {"cores_busy", Report::Num(raw.cpu_seconds / raw.seconds, 2)},
                               {"cpu_us_per_signature", Report::Num(raw.cpu_us_per_signature())}}));
  {
    ST_ASSIGN_OR_RETURN(auto server, ServerProcess::Start(o.bin_dir, conf));
    const double cpu_before = server->cpu_seconds();
    ST_ASSIGN_OR_RETURN(auto max, MaxRate(o, st, server->address(), 4));
    // The server's own CPU per certificate, whatever the line beside it takes:
    // against cpu_us_per_signature, the share of the work that is the token's.
    const double server_cpu_us =
        (server->cpu_seconds() - cpu_before) * 1e6 / static_cast<double>(max.issued + kProbeDevices);
    report.Add("e2e", With(who, With({{"workers", std::to_string(workers)},
                                      {"e2e_over_raw", Report::Num(max.certs_per_second / raw.per_second, 3)},
                                      {"server_cpu_us_per_certificate", Report::Num(server_cpu_us)},
                                      {"signature_share_of_server_cpu",
                                       Report::Num(raw.cpu_us_per_signature() / server_cpu_us, 3)}},
                                     Latency(max))));
    ST_ASSIGN_OR_RETURN(auto half, AtRate(o, st, server->address(), max.certs_per_second * 0.5));
    report.Add("latency_50", With(who, Latency(half)));
    ST_ASSIGN_OR_RETURN(auto full, AtRate(o, st, server->address(), max.certs_per_second));
    report.Add("latency_100", With(who, Latency(full)));
    // Memory: after the runs above, and after ten times as many certificates again.
    const size_t before_kib = server->rss_kib();
    const size_t so_far = 600 + max.issued + half.issued + full.issued;
    client::SimulateOptions longer;
    longer.devices = std::clamp<size_t>(o.memory_factor * so_far, 1, 1000000);
    ST_ASSIGN_OR_RETURN(auto after, RunLine(st.line_conf(), server->address(), longer));
    const size_t after_kib = server->rss_kib();
    report.Add("memory", With(who, {{"rss_mib_before", Report::Num(before_kib / 1024.0)},
                                    {"certificates_before", std::to_string(so_far)},
                                    {"rss_mib_after", Report::Num(after_kib / 1024.0)},
                                    {"certificates_after", std::to_string(so_far + after.issued)},
                                    {"growth_bytes_per_certificate",
                                     Report::Num((static_cast<double>(after_kib) - static_cast<double>(before_kib)) *
                                                     1024.0 / static_cast<double>(after.issued), 2)},
                                    {"peak_rss_mib", Report::Num(server->peak_rss_kib() / 1024.0)}}));
  }
  if (!first) return {};
  if (!o.store_url.empty()) ST_RETURN_IF_ERROR(BenchSharedStore(o, root, st, conf, who, report));
  ST_RETURN_IF_ERROR(DurabilityCost(o, st, conf, who, report));
  if (o.naive > 0) {
    ST_ASSIGN_OR_RETURN(NaiveResult naive, MeasureNaive(st, o.naive));
    report.Add("naive", With(who, {{"certificates", std::to_string(naive.certificates)},
                                   {"certs_per_second", Report::Num(naive.per_second, 2)}}));
  }
  if (o.scaling) {
    std::vector<size_t> counts;
    for (size_t w = 1; w < Cores(); w *= 2) counts.push_back(w);
    counts.push_back(Cores());
    for (size_t w : counts) {
      ST_ASSIGN_OR_RETURN(std::string wconf, st.WriteVariant({w, 0, w + 2, "", {}, "workers-" + std::to_string(w)}));
      ST_ASSIGN_OR_RETURN(RawResult wraw, RawInChild(o, wconf, w, w + 2));
      ST_ASSIGN_OR_RETURN(auto server, ServerProcess::Start(o.bin_dir, wconf));
      ST_ASSIGN_OR_RETURN(auto max, MaxRate(o, st, server->address(), 4));
      report.Add("scaling", With(who, {{"workers", std::to_string(w)},
                                       {"raw_signs_per_second", Report::Num(wraw.per_second)},
                                       {"certs_per_second", Report::Num(max.certs_per_second)}}));
    }
  }
  for (const NetsimCase& n : o.netsim) {
    Variant v;
    v.signers = n.signers > 0 ? n.signers : 2 * n.sessions;
    v.sessions = n.sessions;
    v.module = o.lib_dir + "/libstation-netsim-pkcs11.so";
    v.env = {{"STATION_NETSIM_MODULE", "/usr/lib/softhsm/libsofthsm2.so"},
             {"STATION_NETSIM_SIGN_LATENCY_US", std::to_string(n.latency_us)},
             {"STATION_NETSIM_MAX_SESSIONS", std::to_string(n.sessions)}};
    v.name = "netsim-" + std::to_string(n.latency_us) + "-" + std::to_string(n.sessions);
    const std::string timing_file = st.dir() + "/" + v.name + "-timing.json";
    v.env["STATION_NETSIM_TIMING_FILE"] = timing_file;
    ST_ASSIGN_OR_RETURN(std::string nconf, st.WriteVariant(v));
    const double capacity = static_cast<double>(n.sessions) * 1e6 / static_cast<double>(n.latency_us);
    ST_ASSIGN_OR_RETURN(RawResult nraw, RawInChild(o, nconf, n.sessions, n.sessions));
    client::SimulateSummary max;
    {
      ST_ASSIGN_OR_RETURN(auto server, ServerProcess::Start(o.bin_dir, nconf));
      ST_ASSIGN_OR_RETURN(max, MaxRate(o, st, server->address(), 8));
    }  // stopped: the module has written where its time went (netsim/timing.h)
    report.Add("netsim", With(With(who, {{"sign_latency_us", std::to_string(n.latency_us)},
                                         {"sessions", std::to_string(n.sessions)},
                                         {"signers", std::to_string(v.signers)},
                                         {"capacity", Report::Num(capacity)},
                                         {"raw_signs_per_second", Report::Num(nraw.per_second)},
                                         {"certs_per_second", Report::Num(max.certs_per_second)},
                                         {"of_capacity", Report::Num(max.certs_per_second / capacity, 3)},
                                         {"p99_ms", Report::Num(max.p99_ms, 2)}}),
                              NetsimTiming(timing_file)));
  }
  return {};
}

int Fail(const Error& e) {
  std::fprintf(stderr, "station-bench: %s\n", e.ToString().c_str());
  return 1;
}

int Raw(int argc, char** argv) {
  auto args = base::Args::Parse(argc, argv, 2, {"config", "threads", "sessions", "seconds"});
  if (!args.ok()) return Fail(args.error());
  auto conf = args->Require("config");
  auto threads = args->Number("threads", 2, 1, 1024);
  auto sessions = args->Number("sessions", 4, 1, 1024);
  auto seconds = args->Number("seconds", 5, 1, 3600);
  if (!conf.ok()) return Fail(conf.error());
  if (!threads.ok()) return Fail(threads.error());
  if (!sessions.ok()) return Fail(sessions.error());
  if (!seconds.ok()) return Fail(seconds.error());
  auto r = MeasureRawSign(*conf, static_cast<size_t>(*threads), static_cast<size_t>(*sessions),
                          static_cast<double>(*seconds));
  if (!r.ok()) return Fail(r.error());
  std::printf("%s\n", r->Json().c_str());
  return 0;
}

Result<NetsimCase> ParseNetsim(const std::string& text) {
  NetsimCase n;
  char end = 0;
  const int read = std::sscanf(text.c_str(), "%ld:%zu:%zu%c", &n.latency_us, &n.sessions, &n.signers, &end);
  if ((read != 2 && read != 3) || (read == 2 && text.find(':', text.find(':') + 1) != std::string::npos) ||
      n.latency_us < 0 || n.sessions == 0 || n.sessions > 1024 || n.signers > 1024)
    return base::UsageError("--netsim wants LATENCY_US:SESSIONS[:SIGNERS], e.g. 2000:32 or 2000:4:8");
  return n;
}

constexpr const char* kUsage =
    "usage: station-bench [--seconds 5] [--ca-keys ec-p256,rsa-2048] [--naive 20] [--memory-factor 10]\n"
    "                     [--no-scaling] [--netsim LATENCY_US:SESSIONS[:SIGNERS],...]\n"
    "                     [--store URL --store-password-file FILE]\n"
    "       station-bench raw --config station.conf --threads N --sessions N --seconds S\n"
    "JSON lines on stdout, a table on stderr; what each figure means: bench/README.md\n";

int Main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  if (argc > 1 && std::string(argv[1]) == "raw") return Raw(argc, argv);
  auto args = base::Args::Parse(
      argc, argv, 1, {"seconds", "ca-keys", "naive", "netsim", "memory-factor", "store", "store-password-file"},
      {"no-scaling"});
  if (!args.ok()) return Fail(args.error());
  Options o;
  auto seconds = args->Number("seconds", 5, 1, 600);
  auto naive = args->Number("naive", 20, 0, 1000);
  auto memory_factor = args->Number("memory-factor", 10, 1, 100);
  if (!seconds.ok()) return Fail(seconds.error());
  if (!naive.ok()) return Fail(naive.error());
  if (!memory_factor.ok()) return Fail(memory_factor.error());
  o.memory_factor = static_cast<size_t>(*memory_factor);
  o.seconds = static_cast<double>(*seconds);
  o.naive = static_cast<size_t>(*naive);
  if (auto keys = args->Get("ca-keys")) o.ca_keys = SplitComma(*keys);
  if (args->Has("no-scaling")) o.scaling = false;
  o.store_url = args->Get("store", "");
  o.store_password_file = args->Get("store-password-file", "");
  if (auto netsim = args->Get("netsim")) {
    o.netsim.clear();
    for (const std::string& item : SplitComma(*netsim)) {
      auto n = ParseNetsim(item);
      if (!n.ok()) return Fail(n.error());
      o.netsim.push_back(*n);
    }
  }
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  o.bin_dir = self.parent_path().string();
  o.lib_dir = (self.parent_path().parent_path() / "lib").string();
  char tmpl[] = "/tmp/station-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Fail(MakeError(Code::kInternal, "BENCH_SETUP_FAILED", "mkdtemp failed"));
  const std::string root = tmpl;
  Report report;
  Status status;
  for (size_t i = 0; i < o.ca_keys.size() && status.ok(); ++i)
    status = BenchCaKey(o, root, o.ca_keys[i], i == 0, report);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  std::fprintf(stderr, "\n%s", report.Table().c_str());
  if (!status.ok()) return Fail(status.error());
  return 0;
}

}  // namespace
}  // namespace station::bench

int main(int argc, char** argv) { return station::bench::Main(argc, argv); }
