#include "hsm/uri.h"

#include <gtest/gtest.h>

namespace station::hsm {
namespace {

TEST(Pkcs11UriTest, ParsesTokenObjectIdAndType) {
  auto uri = ParsePkcs11Uri("pkcs11:token=My%20Token;object=station-ca;id=%01%a2;type=private");
  ASSERT_TRUE(uri.ok()) << uri.error().ToString();
  EXPECT_EQ(uri->token, "My Token");
  EXPECT_EQ(uri->object, "station-ca");
  EXPECT_EQ(uri->id, (Bytes{0x01, 0xa2}));
  EXPECT_EQ(uri->type, "private");
}

TEST(Pkcs11UriTest, ParsesSlotIdSerialAndModulePath) {
  auto uri = ParsePkcs11Uri("pkcs11:serial=abc123;slot-id=7?module-path=/usr/lib/x.so");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->serial, "abc123");
  ASSERT_TRUE(uri->slot_id.has_value());
  EXPECT_EQ(*uri->slot_id, 7u);
  EXPECT_EQ(uri->module_path, "/usr/lib/x.so");
}

TEST(Pkcs11UriTest, RoundTripsThroughToString) {
  auto uri = ParsePkcs11Uri("pkcs11:token=station;object=ca%3Bkey;id=%ff;type=private");
  ASSERT_TRUE(uri.ok());
  auto again = ParsePkcs11Uri(uri->ToString());
  ASSERT_TRUE(again.ok()) << uri->ToString();
  EXPECT_EQ(again->object, "ca;key");
  EXPECT_EQ(again->id, Bytes{0xff});
}

TEST(Pkcs11UriTest, RefusesPinValue) {
  auto uri = ParsePkcs11Uri("pkcs11:token=station?pin-value=1234");
  ASSERT_FALSE(uri.ok());
  EXPECT_EQ(uri.error().reason, "BAD_PKCS11_URI");
  EXPECT_EQ(uri.error().message.find("1234"), std::string::npos) << "the PIN must not be echoed";
}

TEST(Pkcs11UriTest, RefusesMalformedInput) {
  for (const char* bad : {"token=station", "pkcs11:token", "pkcs11:tokn=station", "pkcs11:token=%zz",
                          "pkcs11:type=banana", "pkcs11:slot-id=x", "pkcs11:object=%4"}) {
    auto uri = ParsePkcs11Uri(bad);
    EXPECT_FALSE(uri.ok()) << bad;
    if (!uri.ok()) {
      EXPECT_EQ(uri.error().code, Code::kInvalidArgument) << bad;
    }
  }
  EXPECT_FALSE(ParsePkcs11Uri("pkcs11:object=" + std::string(5000, 'a')).ok());
}

}  // namespace
}  // namespace station::hsm
