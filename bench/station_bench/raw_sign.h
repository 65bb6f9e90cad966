// The token's own limit: C_Sign calls per second with the station's CA key,
// the mechanism the station uses for it, from `threads` threads over a pool
// of `sessions` sessions, for `seconds`. Runs in a child process of its own
// (`station-bench raw`), so each token is loaded with its own configuration.
#pragma once

#include <string>

#include "station/base/error.h"

namespace station::bench {

struct RawResult {
  size_t threads = 0;
  size_t sessions = 0;
  uint64_t signatures = 0;
  double seconds = 0;
  double per_second = 0;
  double cpu_seconds = 0;  // the process's CPU time over the run, all threads
  double cpu_us_per_signature() const { return signatures ? cpu_seconds * 1e6 / static_cast<double>(signatures) : 0; }
  std::string Json() const;
};

Result<RawResult> MeasureRawSign(const std::string& station_conf, size_t threads, size_t sessions, double seconds);

// Parses what `station-bench raw` printed.
Result<RawResult> ParseRawResult(const std::string& json_line);

}  // namespace station::bench
