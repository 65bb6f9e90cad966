// Durations as people write them in profiles and on the command line:
// "90s", "5m", "24h", "30d", "10y" (a year is 365 days).
#pragma once

#include <cstdint>
#include <string>

#include "hsm/error.h"

namespace station::common {

// Seconds; INVALID_ARGUMENT (BAD_DURATION) for anything else.
Result<int64_t> ParseDuration(const std::string& text);

// The shortest exact spelling of a number of seconds ("300" -> "5m").
std::string FormatDuration(int64_t seconds);

}  // namespace station::common
