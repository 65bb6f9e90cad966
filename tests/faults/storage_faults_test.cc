// Storage faults under the audit log: a full disk (a small tmpfs filled up)
// and write errors (a file size limit: writes fail with EFBIG). No
// certificate is released without its record, the items get UNAVAILABLE
// AUDIT_UNAVAILABLE, the station stays up and issues again once the disk
// has room, and the log verifies afterwards.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <fcntl.h>
#include <future>
#include <unistd.h>

#include "tests/support/station_fixture.h"
#include "tests/support/subprocess.h"

namespace station::testing {
namespace {

const issuance::Caller kLine{"line-1", issuance::Role::kLine};

class StorageFaultTest : public StationTest {
 protected:
  void TearDown() override {
    if (station_) station_->Shutdown();
    station_.reset();
    if (mounted_) ::umount2(dev_->config.state_dir.c_str(), MNT_DETACH);
  }

  // Submits the ids at once; each answer is checked against the log: a
  // certificate only with its record, a refusal only without one.
  std::vector<std::string> SubmitAll(const std::vector<std::string>& ids) {
    std::vector<std::future<Result<issuance::Issued>>> answers;
    for (const std::string& id : ids)
      answers.push_back(std::async(std::launch::async, [this, id, r = RequestFor(id)]() mutable {
        return Submit(kLine, std::move(r));
      }));
    std::vector<std::string> refused;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto answer = answers[i].get();
      auto logged = station_->store().FindByRequest(kLine.identity, ids[i]);
      if (answer.ok()) {
        EXPECT_TRUE(logged.ok() && logged->has_value() && (*logged)->certificate_id == answer->certificate_id)
            << ids[i] << ": released without its record";
        continue;
      }
      EXPECT_EQ(answer.error().code, Code::kUnavailable) << answer.error().ToString();
      EXPECT_EQ(answer.error().reason, "AUDIT_UNAVAILABLE") << answer.error().ToString();
      refused.push_back(ids[i]);
    }
    return refused;
  }

  static std::vector<std::string> Ids(const std::string& prefix, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(prefix + "-" + std::to_string(i));
    return ids;
  }

  void ExpectLogVerifies() {
    station_->Shutdown();
    station_.reset();
    auto r = RunCommand({ProgramPath("stationctl"), "audit", "verify", "--config", dev_->setup.station_conf});
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }

  bool mounted_ = false;
};

TEST_F(StorageFaultTest, AFullDiskRefusesItemsAndIssuingResumesWhenSpaceReturns) {
  Open([&](config::StationConfig& c) {
    mounted_ = ::mount("tmpfs", c.state_dir.c_str(), "tmpfs", 0, "size=16m,mode=0700") == 0;
  });
  if (!mounted_) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(SubmitAll(Ids("before", 4)).empty());

  // Fill the disk to the last block.
  const std::string ballast = dev_->config.state_dir + "/ballast";
  int fd = ::open(ballast.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  std::vector<char> block(64 * 1024, 'x');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  while (::write(fd, block.data(), 512) > 0) {
  }
  EXPECT_EQ(errno, ENOSPC);
  ::close(fd);

  auto refused = SubmitAll(Ids("full", 64));
  EXPECT_FALSE(refused.empty()) << "the log found room on a full disk";
  EXPECT_EQ(SubmitAll(Ids("still-full", 8)).size(), 8u);

  ASSERT_EQ(::unlink(ballast.c_str()), 0);  // space returns; no restart
  EXPECT_TRUE(SubmitAll(refused).empty());  // the refused ones, retried
  EXPECT_TRUE(SubmitAll(Ids("after", 16)).empty());
  ExpectLogVerifies();
}

TEST_F(StorageFaultTest, WriteErrorsRefuseItemsAndIssuingResumesWhenTheyStop) {
  Open();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(SubmitAll(Ids("before", 4)).empty());

  // No file of this process may grow any more: writes past the end fail with EFBIG.
  struct stat wal {};
  ASSERT_EQ(::stat((dev_->config.audit_db_path() + "-wal").c_str(), &wal), 0);
  std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &limit), 0);
  const struct rlimit saved = limit;
  limit.rlim_cur = static_cast<rlim_t>(wal.st_size);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);

  auto refused = SubmitAll(Ids("failing", 64));
  EXPECT_FALSE(refused.empty()) << "the log grew past the limit";
  EXPECT_EQ(SubmitAll(Ids("still-failing", 8)).size(), 8u);

  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  EXPECT_TRUE(SubmitAll(refused).empty());
  EXPECT_TRUE(SubmitAll(Ids("after", 16)).empty());
  ExpectLogVerifies();
}

}  // namespace
}  // namespace station::testing
