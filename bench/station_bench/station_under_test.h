// A development station for the benchmark: made with `stationctl dev-setup`
// in a directory of its own, then run as a real `station-server` process with
// a config variant (workers, sessions, a PKCS#11 module in front of the token).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "station/base/error.h"
#include "station/client/simulate.h"
#include "tests/support/subprocess.h"

namespace station::bench {

// What a run changes in the dev station's config.
struct Variant {
  size_t workers = 0;   // [issuance] workers; 0: the station's default (cores)
  size_t signers = 0;   // [issuance] signers; 0: as many as workers
  size_t sessions = 0;  // [token] sessions; 0: signers + 2
  std::string module;   // [token] module; "": SoftHSM
  std::map<std::string, std::string> env;  // more [token.env]
  std::string name;     // the config file's name: DIR/bench-NAME.conf
  std::string store;    // a [store] section to add: a shared PostgreSQL store
};

class DevStation {
 public:
  // `stationctl dev-setup --ca-key ca_key` in DIR.
  static Result<DevStation> Make(const std::string& bin_dir, const std::string& dir, const std::string& ca_key);

  // Writes the variant's config beside station.conf; returns its path.
  Result<std::string> WriteVariant(const Variant& variant) const;

  const std::string& dir() const { return dir_; }
  const std::string& ca_key() const { return ca_key_; }
  std::string station_conf() const { return dir_ + "/station.conf"; }
  std::string line_conf() const { return dir_ + "/line.conf"; }

 private:
  std::string dir_, ca_key_;
};

// A running station-server. Stopped (SIGTERM) when destroyed.
class ServerProcess {
 public:
  static Result<std::unique_ptr<ServerProcess>> Start(const std::string& bin_dir, const std::string& config_path);
  ~ServerProcess();

  const std::string& address() const { return address_; }
  // The server's peak and current resident memory, from /proc (KiB).
  size_t peak_rss_kib() const;
  size_t rss_kib() const;
  // CPU time the server has used so far, all threads, user and system (seconds).
  double cpu_seconds() const;

 private:
  ServerProcess() = default;
  std::unique_ptr<testing::Background> process_;
  std::string address_;
};

// `station-line simulate` in this process against `address`, as line-1.
Result<client::SimulateSummary> RunLine(const std::string& line_conf, const std::string& address,
                                        client::SimulateOptions options);

}  // namespace station::bench
