#include "bench/station_bench/station_under_test.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "station/base/files.h"
#include "station/config/config.h"

namespace station::bench {
namespace {

// The value of a "Name:   123 kB" line of /proc/PID/status.
size_t StatusKib(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + ":", 0) == 0) return std::stoul(line.substr(name.size() + 1));
  return 0;
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// Inserts `lines` right after the line `[section]` of a TOML text.
void AddToSection(std::string& text, const std::string& section, const std::string& lines) {
  const std::string header = "\n[" + section + "]";
  size_t at = text.find(header);
  if (at == std::string::npos) {
    text += header + "\n" + lines;
    return;
  }
  size_t eol = text.find('\n', at + header.size());
  text.insert(eol == std::string::npos ? text.size() : eol + 1, lines);
}

}  // namespace

Result<DevStation> DevStation::Make(const std::string& bin_dir, const std::string& dir, const std::string& ca_key) {
  auto made = testing::RunCommand({bin_dir + "/stationctl", "dev-setup", "--dir", dir, "--listen", "127.0.0.1:0",
                                  "--ca-key", ca_key},
                                 300);
  if (made.exit_code != 0)
    return MakeError(Code::kInternal, "BENCH_SETUP_FAILED", "stationctl dev-setup: " + made.output);
  DevStation s;
  s.dir_ = dir;
  s.ca_key_ = ca_key;
  return s;
}

Result<std::string> DevStation::WriteVariant(const Variant& variant) const {
  ST_ASSIGN_OR_RETURN(std::string text, base::ReadFile(station_conf()));
  if (!variant.module.empty()) {
    const std::string softhsm = "module = \"/usr/lib/softhsm/libsofthsm2.so\"";
    size_t at = text.find(softhsm);
    if (at == std::string::npos)
      return MakeError(Code::kInternal, "BENCH_SETUP_FAILED", "station.conf does not name SoftHSM's module");
    text.replace(at, softhsm.size(), "module = " + Quoted(variant.module));
  }
  std::string env;
  for (const auto& [name, value] : variant.env) env += name + " = " + Quoted(value) + "\n";
  if (!env.empty()) AddToSection(text, "token.env", env);
  if (variant.sessions > 0) AddToSection(text, "token", "sessions = " + std::to_string(variant.sessions) + "\n");
  if (variant.workers > 0) AddToSection(text, "issuance", "workers = " + std::to_string(variant.workers) + "\n");
  if (variant.signers > 0) AddToSection(text, "issuance", "signers = " + std::to_string(variant.signers) + "\n");
  text += variant.store;
  const std::string path = dir_ + "/bench-" + (variant.name.empty() ? "default" : variant.name) + ".conf";
  ST_RETURN_IF_ERROR(base::WriteFile(path, text));
  if (auto checked = config::LoadStationConfig(path); !checked.ok()) return checked.error();
  return path;
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::Start(const std::string& bin_dir,
                                                           const std::string& config_path) {
  std::unique_ptr<ServerProcess> s(new ServerProcess());
  std::vector<std::string> argv{bin_dir + "/station-server", "--config", config_path};
  if (::geteuid() == 0) argv.push_back("--allow-root");  // a benchmark machine run as root, on purpose
  s->process_ = std::make_unique<testing::Background>(argv);
  s->address_ = s->process_->WaitForListening(60);
  if (s->address_.empty())
    return MakeError(Code::kInternal, "BENCH_SERVER_FAILED", "station-server did not start: " + s->process_->log());
  return s;
}

ServerProcess::~ServerProcess() {
  if (process_) process_->Stop(SIGTERM, 60);
}

size_t ServerProcess::peak_rss_kib() const { return StatusKib(process_->pid(), "VmHWM"); }
size_t ServerProcess::rss_kib() const { return StatusKib(process_->pid(), "VmRSS"); }

double ServerProcess::cpu_seconds() const {
  // /proc/PID/stat: utime and stime are fields 14 and 15, after "(comm)".
  std::ifstream in("/proc/" + std::to_string(process_->pid()) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Result<client::SimulateSummary> RunLine(const std::string& line_conf, const std::string& address,
                                        client::SimulateOptions options) {
  ST_ASSIGN_OR_RETURN(config::LineConfig config, config::LoadLineConfig(line_conf));
  config.target = address;
  ST_ASSIGN_OR_RETURN(client::SimulateSummary summary, client::Simulate(config, options));
  if (summary.failed > 0 || summary.verify_failures > 0)
    return MakeError(Code::kInternal, "BENCH_LINE_FAILED",
                     "the line saw failures, so its figures would mislead: " + summary.Json());
  return summary;
}

}  // namespace station::bench
