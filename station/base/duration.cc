#include "station/base/duration.h"

#include <cctype>
#include <chrono>
#include <ctime>

namespace station::base {
namespace {

struct Unit {
  char suffix;
  int64_t seconds;
};
constexpr Unit kUnits[] = {{'y', 365 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

}  // namespace

Result<int64_t> ParseDuration(const std::string& text) {
  auto bad = [&] {
    return MakeError(Code::kInvalidArgument, "BAD_DURATION",
                     "'" + text + "' is not a duration; write a number and a unit: 90s, 5m, 24h, 30d, 10y");
  };
  if (text.size() < 2 || text.size() > 12) return bad();
  int64_t number = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    number = number * 10 + (text[i] - '0');
  }
  for (const Unit& unit : kUnits) {
    if (text.back() == unit.suffix) {
      if (number > (int64_t{1} << 40) / unit.seconds) return bad();
      return number * unit.seconds;
    }
  }
  return bad();
}

std::string FormatDuration(int64_t seconds) {
  for (const Unit& unit : kUnits)
    if (seconds != 0 && seconds % unit.seconds == 0) return std::to_string(seconds / unit.seconds) + unit.suffix;
  return std::to_string(seconds) + "s";
}

std::string UtcText(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t NowUnixMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace station::base
