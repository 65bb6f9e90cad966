// policy::Authorize: every rule of "may this device get this certificate"
// that needs no registry, as a pure function of the profile, its lines, the
// request and the key; and the one device-id rule requests, lots and
// reissue approvals share.
#include "station/policy/authorize.h"

#include <gtest/gtest.h>

#include "station/policy/profile_file.h"

namespace station::policy {
namespace {

Profile Shipped(const std::string& name) {
  auto loaded = LoadProfileFile(std::string(STATION_SOURCE_DIR) + "/ops/profiles/" + name + ".toml");
  EXPECT_TRUE(loaded.ok()) << loaded.error().ToString();
  return loaded.ok() ? *loaded : Profile{};
}

struct Request {
  std::string caller = "line-1";
  std::string device_id = "dev-1";
  std::map<std::string, std::string> attributes;
  std::string thing_name, thing_type;
  std::map<std::string, std::string> thing_attributes;
  RequestFacts facts() const { return {caller, device_id, attributes, thing_name, thing_type, thing_attributes}; }
};

const DeviceKeyFacts kP256{"ec-p256", std::string(64, 'a')};

TEST(AuthorizeTest, AOnePerDeviceProfileReservesTheKeyAndTheDevice) {
  Profile profile = Shipped("aws-iot-device");
  Request req;
  req.thing_name = "dev-1";
  auto reservation = Authorize(profile, {"*"}, req.facts(), kP256);
  ASSERT_TRUE(reservation.ok()) << reservation.error().ToString();
  EXPECT_EQ(reservation->profile, "aws-iot-device");
  EXPECT_EQ(reservation->device_id, "dev-1");
  EXPECT_EQ(reservation->spki_sha256, kP256.spki_sha256);
  EXPECT_TRUE(reservation->one_per_device);
  EXPECT_FALSE(reservation->lot_required);
  EXPECT_FALSE(reservation->code_required);
  EXPECT_EQ(reservation->code_sha256, "");
}

TEST(AuthorizeTest, ACodeProfileReservesTheCodeByItsHashOnly) {
  Request req;
  req.attributes = {{kRegistrationCodeAttribute, "CODE-1"}};
  auto reservation = Authorize(Shipped("fleet-claim"), {"*"}, req.facts(), kP256);
  ASSERT_TRUE(reservation.ok()) << reservation.error().ToString();
  EXPECT_TRUE(reservation->code_required);
  EXPECT_EQ(reservation->code_sha256, CodeHash("CODE-1"));
  EXPECT_EQ(reservation->code_sha256.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(reservation->code_sha256.size(), 64u);
}

TEST(AuthorizeTest, ALineTheProfileDoesNotListIsRefused) {
  Request req;
  req.thing_name = "dev-1";
  auto refused = Authorize(Shipped("aws-iot-device"), {"line-2"}, req.facts(), kP256);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "PROFILE_NOT_ALLOWED");
}

TEST(AuthorizeTest, TheProfilesKeyRulesAreApplied) {
  Profile profile = Shipped("aws-iot-device");
  profile.key_algorithms = {"ec-p384"};
  Request req;
  req.thing_name = "dev-1";
  auto refused = Authorize(profile, {"*"}, req.facts(), kP256);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "KEY_NOT_ALLOWED");
  profile.key_algorithms = {"rsa"};
  profile.rsa_min_bits = 3072;
  refused = Authorize(profile, {"*"}, req.facts(), {"rsa-2048", kP256.spki_sha256});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "RSA_TOO_SHORT");
  EXPECT_TRUE(Authorize(profile, {"*"}, req.facts(), {"rsa-3072", kP256.spki_sha256}).ok());
}

TEST(AuthorizeTest, TheRequestIsHeldToItsProfile) {
  Request req;  // aws-iot-device needs a thing name
  req.device_id = "";
  auto refused = Authorize(Shipped("aws-iot-device"), {"*"}, req.facts(), kP256);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "DEVICE_ID_REQUIRED");
}

TEST(DeviceIdTest, OneRuleForRequestsLotsAndReissues) {
  EXPECT_TRUE(ValidDeviceId("a"));
  EXPECT_TRUE(ValidDeviceId(std::string(kMaxDeviceIdBytes, 'x')));
  EXPECT_FALSE(ValidDeviceId(""));
  EXPECT_FALSE(ValidDeviceId(std::string(kMaxDeviceIdBytes + 1, 'x')));
  EXPECT_FALSE(ValidDeviceId("dev\n1"));
  EXPECT_FALSE(ValidDeviceId("d\xc3\xa9v"));
}

}  // namespace
}  // namespace station::policy
