// Files a station writes (PIN files, TLS keys, exports, minted codes): whole
// or not at all, with exactly the mode asked for, and never through a link or
// into a file someone placed beforehand.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "station/base/files.h"
#include "tests/support/dev_station.h"

namespace station::base {
namespace {

TEST(FilesTest, WriteFileGoesThroughNoPlantedLink) {
  testing::TempDir dir;
  const std::string victim = dir.path() + "/victim";
  const std::string path = dir.path() + "/user.pin";
  ASSERT_TRUE(WriteFile(victim, "precious\n", 0644).ok());
  // The names the writer once used (PATH.tmp.PID), and PATH itself, as links to the victim.
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp." + std::to_string(::getpid())).c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), path.c_str()), 0);
  const mode_t old_umask = ::umask(0);
  Status written = WriteFile(path, "1234\n", 0600);
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written.error().ToString();
  EXPECT_EQ(*ReadFile(victim), "precious\n");
  EXPECT_EQ(*ReadFile(path), "1234\n");
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode)) << "the link was replaced by the file, not followed";
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(FilesTest, ANewFileNeverCommittedLeavesNothing) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/export.jsonl";
  {
    auto file = NewFile::Create(path, 0644);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->Append("half an export").ok());
  }
  EXPECT_FALSE(ReadFile(path).ok());
  EXPECT_EQ(::rmdir(dir.path().c_str()), 0) << "no temporary file left beside it";
  ASSERT_EQ(::mkdir(dir.path().c_str(), 0700), 0);  // TempDir removes it again
}

}  // namespace
}  // namespace station::base
