// `station-line simulate`: a factory line in a box. Makes N device keys and
// CSRs, streams them over K pipelined SignStreams, then checks every returned
// certificate (it chains to the CA it was answered with, its
// authorityKeyIdentifier names that CA's key, and it holds the device's key).
#pragma once

#include <map>
#include <string>

#include "station/client/request_fields.h"
#include "station/config/config.h"

namespace station::client {

struct SimulateOptions {
  size_t devices = 1000;
  size_t streams = 4;
  std::string key = "ec-p256";  // device key type: ec-p256 | ec-p384 | rsa-2048
  size_t window = 128;          // requests in flight per stream
  size_t rate = 0;              // requests per second over all streams; 0: as fast as answered
  std::string profile;
  std::string device_prefix;    // device ids PREFIX-000000, ... (for a lot); default: a random run id
  RequestFields fields;         // the same attributes and thing type for every device
  int timeout_seconds = 600;    // the whole run stops after this
  bool progress = false;        // draw a progress bar on stderr
  std::string out_dir;          // when set: each certificate as OUT/<device_id>.pem, chain as OUT/chain.pem
};

struct SimulateSummary {
  size_t devices = 0;
  size_t issued = 0;
  size_t failed = 0;
  std::map<std::string, size_t> failed_by_reason;
  size_t verified = 0;
  size_t verify_failures = 0;
  std::map<std::string, size_t> by_issuer_key_id;  // certificates per issuing CA (its key id, hex)
  double seconds = 0;  // first request sent to last answer received
  double certs_per_second = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;

  std::string Text() const;  // for people
  std::string Json() const;  // one line, for bench/ scripts
};

Result<SimulateSummary> Simulate(const config::LineConfig& config, const SimulateOptions& options);

}  // namespace station::client
