// Profile files: the shipped ones load; a broken one is refused with the
// file, the field and what is wrong.
#include "station/policy/profile_file.h"

#include <gtest/gtest.h>

#include "station/base/files.h"
#include "tests/support/dev_station.h"

namespace station::policy {
namespace {

TEST(ProfileFileTest, ShippedProfilesLoad) {
  auto profiles = LoadProfileDir(std::string(STATION_SOURCE_DIR) + "/ops/profiles");
  ASSERT_TRUE(profiles.ok()) << profiles.error().ToString();
  std::vector<std::string> names;
  for (const auto& p : *profiles) names.push_back(p.name);
  EXPECT_EQ(names, std::vector<std::string>({"aws-iot-device", "fleet-claim", "ieee-802.1ar-idevid", "matter-dac"}));
  // Only the AWS IoT device profile's certificates may enter a JITR allow-list.
  for (const auto& p : *profiles) EXPECT_EQ(p.aws_jitr, p.name == "aws-iot-device") << p.name;
  for (const auto& p : *profiles) EXPECT_EQ(p.aws_claim, p.name == "fleet-claim") << p.name;
}

struct BadProfile {
  std::string text;
  std::string field;  // what the message must name
};

TEST(ProfileFileTest, RefusesBrokenProfilesNamingFileAndField) {
  testing::TempDir dir;
  const std::string base = "lines = [\"*\"]\n";
  std::vector<BadProfile> cases = {
      {"", "lines: is required"},
      {base + "colour = \"red\"\n", "colour: unknown setting"},
      {base + "authorization = \"maybe\"\n", "authorization: 'maybe' is not one of"},
      {base + "[[subject]]\nattribute = \"CN\"\nvalue = \"{serial}\"\n", "subject[0].value: '{serial}': unknown placeholder"},
      {base + "[[subject]]\nattribute = \"CN\"\nvalue = \"{attr.vid}\"\n", "subject[0].value: reads {attr.vid}"},
      {base + "[[subject]]\nattribute = \"notAnAttribute\"\nvalue = \"x\"\n", "subject[0].attribute"},
      {base + "[validity]\nduration = \"forever\"\n", "validity.duration"},
      {base + "[usage]\nkey_usage = [\"keyCertSign\"]\n", "usage.key_usage: 'keyCertSign'"},
      {base + "[[extension]]\noid = \"2.5.29.19\"\nder = \"3000\"\n", "extension[0].oid: 2.5.29.19 is built by the profile"},
      {base + "[[extension]]\noid = \"1.2.3.4\"\nder = \"30\"\n", "extension[0].der"},
      {base + "one_per_device = true\n", "one_per_device: needs [device_id] required = true"},
      {base + "[aws]\njitr = true\n", "aws: jitr = true needs [thing] required = true"},
      {base + "[aws]\njitr = \"yes\"\n", "aws.jitr"},
      {base + "[aws]\nregion = \"eu-west-1\"\n", "aws.region: unknown setting"},
      {base + "[aws]\nclaim = true\n", "aws: claim = true needs a [ca] of its own"},
      {base + "[thing]\nrequired = true\n[aws]\nclaim = true\njitr = true\n", "aws: a profile is claim or jitr"},
      {base + "[key]\nalgorithms = [\"ed25519\"]\n", "key.algorithms: 'ed25519'"},
      {base + "[attributes.vid]\npattern = \"[\"\n", "attributes.vid.pattern"},
      // RE2 refuses counts past 1000, nested ones that multiply past 1000,
      // and programs past its memory bound (the profile fuzzer's first
      // finding overflowed std::regex's compiler).
      {base + "[device_id]\npattern = \"^[a-z]{1,1001}$\"\n", "invalid repetition size"},
      {base + "[device_id]\npattern = \"^((a{100}){100}){100}$\"\n", "invalid repetition size"},
      {base + "[device_id]\npattern = \"" + std::string(600, 'a') + "\"\n", "longer than 512 characters"},
      {base + "[device_id]\npattern = \"" + [] {
         std::string nested;  // 25 groups of 20 alternatives, each counted: a large program
         for (int i = 0; i < 16; ++i) nested += "((\\\\w|\\\\d){1,30}){1,30}";
         return nested;
       }() + "\"\n", "pattern too large"},
      {base + "[device_id]\npattern = \"^(a)\\\\1$\"\n", "device_id.pattern"},  // a backreference
      {base + "[[san]]\ntype = \"hardware-module-name\"\nvalue = \"x\"\n", "san[0].hw_type"},
      {"lines = [\"*\"\n", "profile.toml:"},  // a TOML syntax error, with line and column
  };
  for (const BadProfile& c : cases) {
    std::string path = dir.path() + "/profile.toml";
    ASSERT_TRUE(base::WriteFile(path, c.text).ok());
    auto loaded = LoadProfileFile(path);
    ASSERT_FALSE(loaded.ok()) << c.text;
    EXPECT_EQ(loaded.error().reason, "BAD_PROFILE") << c.text;
    EXPECT_NE(loaded.error().message.find(path), std::string::npos) << loaded.error().message;
    EXPECT_NE(loaded.error().message.find(c.field), std::string::npos) << "want '" << c.field << "' in: " << loaded.error().message;
  }
}

TEST(ProfileFileTest, OrdinaryPatternsWithCountsAndEscapedBracesLoad) {
  for (const char* pattern : {"^[0-9A-F]{16}$", "^[A-Z]{2}-[0-9]{4,6}$", "^a\\\\{99999\\\\}$"}) {
    std::string text = std::string("lines = [\"*\"]\n[device_id]\npattern = \"") + pattern + "\"\n";
    auto loaded = ParseProfile(text, "/etc/station/profiles/ids.toml");
    EXPECT_TRUE(loaded.ok()) << pattern << ": " << loaded.error().ToString();
  }
}

TEST(ProfileFileTest, ADirectoryServesItsFilesAndNothingElse) {
  testing::TempDir dir;
  auto empty = LoadProfileDir(dir.path());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().reason, "BAD_PROFILE");
  ASSERT_TRUE(base::WriteFile(dir.path() + "/line-a.toml", "lines = [\"line-a\"]\n").ok());
  auto one = LoadProfileDir(dir.path());
  ASSERT_TRUE(one.ok()) << one.error().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().name, "line-a");
}

}  // namespace
}  // namespace station::policy
