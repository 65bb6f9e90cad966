// Durations as people write them in profiles and on the command line:
// "90s", "5m", "24h", "30d", "10y" (a year is 365 days).
#pragma once

#include <cstdint>
#include <string>

#include "station/base/error.h"

namespace station::base {

// Seconds; INVALID_ARGUMENT (BAD_DURATION) for anything else.
Result<int64_t> ParseDuration(const std::string& text);

// The shortest exact spelling of a number of seconds ("300" -> "5m").
std::string FormatDuration(int64_t seconds);

// A point in time as ISO 8601 UTC, "2026-12-01T06:00:00Z".
std::string UtcText(int64_t unix_ms);

// Now, in milliseconds since the Unix epoch (the time records carry).
int64_t NowUnixMs();

}  // namespace station::base
