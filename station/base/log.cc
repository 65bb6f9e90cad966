#include "station/base/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace station::base {
namespace {

std::mutex g_log_mu;  // keeps lines whole

// Whether stderr is the journal's stream: JOURNAL_STREAM names its device
// and inode, and a child whose stderr went elsewhere inherits the variable.
bool ToJournal() {
  static const bool journal = [] {
    const char* stream = std::getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    struct stat st {};
    return stream != nullptr && std::sscanf(stream, "%llu:%llu", &dev, &ino) == 2 &&
           ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  }();
  return journal;
}

void Log(int priority, const char* level, const std::string& message) {
  if (ToJournal()) {
    std::lock_guard<std::mutex> lock(g_log_mu);
    std::fprintf(stderr, "<%d>%s %s\n", priority, level, message.c_str());
    return;
  }
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

void LogInfo(const std::string& message) { Log(6, "INFO", message); }
void LogWarning(const std::string& message) { Log(4, "WARNING", message); }
void LogError(const std::string& message) { Log(3, "ERROR", message); }

void RateLimitedLog::Warning(const std::string& raw) {
  // Its text comes from outside: one line, no control bytes, bounded.
  constexpr size_t kMaxBytes = 512;
  std::string message;
  for (unsigned char c : raw.substr(0, kMaxBytes)) message.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  uint64_t held_back = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - window_ >= std::chrono::seconds(1)) {
      window_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= per_second_) {
      ++held_back_;
      return;
    }
    ++in_window_;
    held_back = held_back_;
    held_back_ = 0;
  }
  LogWarning(held_back == 0 ? message
                            : message + " (and " + std::to_string(held_back) + " more like it not logged)");
}

}  // namespace station::base
