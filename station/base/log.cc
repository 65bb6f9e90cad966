#include "station/base/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace station::base {
namespace {

std::mutex g_log_mu;  // keeps lines whole

void Log(const char* level, const std::string& message) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard<std::mutex> lock(g_log_mu);
  std::fprintf(stderr, "%s %s %s\n", stamp, level, message.c_str());
}

}  // namespace

void LogInfo(const std::string& message) { Log("INFO", message); }
void LogError(const std::string& message) { Log("ERROR", message); }

}  // namespace station::base
