// One-line log messages on stderr, with a UTC timestamp and the level. Under
// journald (stderr is the stream JOURNAL_STREAM names) each line starts with
// its syslog priority instead (<3> error, <4> warning, <6> info), and the
// journal keeps the time. Never give it a secret.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace station::base {

void LogInfo(const std::string& message);
void LogWarning(const std::string& message);
void LogError(const std::string& message);

// Warnings a caller outside could cause (a line's refused requests): at most
// `per_second` lines a second, so a flood cannot fill the journal; what is
// held back is counted and said with the next line let through. Control
// bytes become '?' and a line ends at 512 bytes: its text comes from outside.
class RateLimitedLog {
 public:
  explicit RateLimitedLog(int per_second) : per_second_(per_second) {}
  void Warning(const std::string& message);

 private:
  const int per_second_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_{};
  int in_window_ = 0;
  uint64_t held_back_ = 0;
};

}  // namespace station::base
