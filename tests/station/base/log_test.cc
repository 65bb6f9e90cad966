// Warnings a line can cause: bounded in rate and in shape.
#include "station/base/log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace station::base {
namespace {

size_t Lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

TEST(RateLimitedLogTest, AFloodIsHeldToItsRateAndCounted) {
  RateLimitedLog log(3);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 100; ++i) log.Warning("refused line-x request 'r" + std::to_string(i) + "'");
  std::string first = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(Lines(first), 3u) << first;
  EXPECT_NE(first.find("request 'r2'"), std::string::npos);
  EXPECT_EQ(first.find("request 'r3'"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ::testing::internal::CaptureStderr();
  log.Warning("refused line-x request 'later'");
  std::string next = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(next.find("'later' (and 97 more like it not logged)"), std::string::npos) << next;
}

TEST(RateLimitedLogTest, OutsideTextStaysOneBoundedLine) {
  RateLimitedLog log(10);
  ::testing::internal::CaptureStderr();
  log.Warning("refused line-x request 'a\nFAKE ALARM: token stolen\r\x1b[31m'" + std::string(2000, 'x'));
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(Lines(out), 1u) << out;
  EXPECT_NE(out.find("'a?FAKE ALARM: token stolen??[31m'"), std::string::npos) << out;
  EXPECT_LT(out.size(), 600u);
}

}  // namespace
}  // namespace station::base
