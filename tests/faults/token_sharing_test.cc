// Several processes on one token, as the stations of a fleet share one HSM.
// SoftHSM rewrites its token file at every login, and a process that reads
// the token's files at that moment does not see the token. A station that
// starts beside another must open the token all the same.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "station/base/files.h"
#include "station/runtime/station.h"
#include "tests/support/bare_token.h"

namespace station::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Opens the token (loading the module, reading its files, logging in) again
// and again for `period`, `pause` apart; returns how many opens failed,
// naming the first.
int OpenRepeatedly(const config::TokenConfig& token, Clock::duration period, Clock::duration pause, int* opens,
                   std::string* first_error) {
  int failures = 0;
  for (const auto end = Clock::now() + period; Clock::now() < end; ++*opens) {
    auto opened = runtime::OpenToken(token, 1);
    std::this_thread::sleep_for(pause);
    if (opened.ok()) continue;
    if (failures++ == 0) *first_error = opened.error().ToString();
  }
  return failures;
}

TEST(TokenSharingTest, AStationOpensTheTokenWhileAnotherProcessLogsIn) {
  auto bare = MakeBareToken();
  ASSERT_TRUE(bare);
  config::TokenConfig token;
  token.module = SOFTHSM_MODULE;
  token.uri = "pkcs11:token=" + bare->label;
  token.pin.kind = hsm::PinSource::Kind::kFile;
  token.pin.name = bare->dir.path() + "/pin";
  ASSERT_TRUE(base::WriteFile(token.pin.name, bare->user_pin, 0600).ok());
  // The module is finalized here, so each open below reads the token afresh.
  bare->token.reset();
  bare->module.reset();

  const pid_t other = ::fork();
  ASSERT_GE(other, 0);
  if (other == 0) {  // the other stations: log in over and over, far more often than stations do
    int opens = 0;
    std::string error;
    OpenRepeatedly(token, std::chrono::seconds(3), std::chrono::milliseconds(5), &opens, &error);
    ::_exit(0);
  }
  int opens = 0;
  std::string first_error;
  const int failures = OpenRepeatedly(token, std::chrono::seconds(3), {}, &opens, &first_error);
  int status = 0;
  ASSERT_EQ(::waitpid(other, &status, 0), other);
  EXPECT_GT(opens, 10);
  EXPECT_EQ(failures, 0) << failures << " of " << opens << " opens failed, first: " << first_error;
}

}  // namespace
}  // namespace station::testing
