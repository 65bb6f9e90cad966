#include "hsm/pin.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "tests/support/dev_station.h"

namespace station::hsm {
namespace {

std::string WritePin(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream(path) << content;
  chmod(path.c_str(), mode);
  return path;
}

TEST(PinTest, ReadsFileAndDropsTrailingNewline) {
  testing::TempDir dir;
  auto pin = ReadPin({PinSource::Kind::kFile, WritePin(dir.path() + "/pin", "s3cret\n", 0600)});
  ASSERT_TRUE(pin.ok()) << pin.error().ToString();
  EXPECT_EQ(pin->reveal(), "s3cret");
}

TEST(PinTest, RefusesFileReadableByOthers) {
  testing::TempDir dir;
  std::string path = WritePin(dir.path() + "/pin", "s3cret\n", 0644);
  auto pin = ReadPin({PinSource::Kind::kFile, path});
  ASSERT_FALSE(pin.ok());
  EXPECT_EQ(pin.error().reason, "PIN_UNAVAILABLE");
  EXPECT_NE(pin.error().message.find("chmod 600"), std::string::npos) << pin.error().message;
  EXPECT_EQ(pin.error().message.find("s3cret"), std::string::npos);
  EXPECT_FALSE(ReadPin({PinSource::Kind::kFile, WritePin(dir.path() + "/pin2", "x", 0640)}).ok());
}

TEST(PinTest, RefusesEmptyMissingAndOversizedFiles) {
  testing::TempDir dir;
  EXPECT_FALSE(ReadPin({PinSource::Kind::kFile, WritePin(dir.path() + "/empty", "\n", 0600)}).ok());
  EXPECT_FALSE(ReadPin({PinSource::Kind::kFile, dir.path() + "/missing"}).ok());
  EXPECT_FALSE(ReadPin({PinSource::Kind::kFile, WritePin(dir.path() + "/big", std::string(1000, 'a'), 0600)}).ok());
  EXPECT_FALSE(ReadPin({PinSource::Kind::kFile, dir.path()}).ok()) << "a directory is not a PIN file";
}

TEST(PinTest, ReadsEnvironmentVariableAndRemovesIt) {
  setenv("STATION_TEST_PIN", "from-env", 1);
  auto pin = ReadPin({PinSource::Kind::kEnv, "STATION_TEST_PIN"});
  ASSERT_TRUE(pin.ok());
  EXPECT_EQ(pin->reveal(), "from-env");
  EXPECT_EQ(getenv("STATION_TEST_PIN"), nullptr);
  EXPECT_FALSE(ReadPin({PinSource::Kind::kEnv, "STATION_TEST_PIN"}).ok());
}

TEST(PinTest, ReadsSystemdCredential) {
  testing::TempDir dir;
  WritePin(dir.path() + "/token-pin", "cred\n", 0400);
  unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_FALSE(ReadPin({PinSource::Kind::kCredential, "token-pin"}).ok());
  setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
  auto pin = ReadPin({PinSource::Kind::kCredential, "token-pin"});
  ASSERT_TRUE(pin.ok()) << pin.error().ToString();
  EXPECT_EQ(pin->reveal(), "cred");
  EXPECT_FALSE(ReadPin({PinSource::Kind::kCredential, "../token-pin"}).ok());
}

}  // namespace
}  // namespace station::hsm
