// Weak device keys are refused with a reason naming the weakness, each
// tested with a crafted key that really signs its CSR; sound keys pass.
#include "station/policy/key_checks.h"

#include <gtest/gtest.h>

#include "station/issuance/csr.h"
#include "tests/support/csr_factory.h"

namespace station::policy {
namespace {

void ExpectRefused(const Bytes& csr, const std::string& reason) {
  auto checked = issuance::CheckCsr(csr, 16 * 1024);
  ASSERT_FALSE(checked.ok()) << "expected " << reason;
  EXPECT_EQ(checked.error().code, Code::kInvalidArgument);
  EXPECT_EQ(checked.error().reason, reason) << checked.error().message;
}

TEST(KeyChecksTest, RefusesAModulusWithASmallFactor) {
  auto key = testing::MakeWeakRsaKey("small-factor");
  ASSERT_TRUE(key);
  ExpectRefused(testing::MakeCsrForKey(key.get()), "RSA_SMALL_FACTOR");
}

TEST(KeyChecksTest, RefusesPrimesCloseEnoughForFermat) {
  auto key = testing::MakeWeakRsaKey("fermat");
  ASSERT_TRUE(key);
  ExpectRefused(testing::MakeCsrForKey(key.get()), "RSA_FERMAT_FACTORABLE");
}

TEST(KeyChecksTest, RefusesRocaKeys) {
  auto key = testing::MakeWeakRsaKey("roca");
  ASSERT_TRUE(key);
  ExpectRefused(testing::MakeCsrForKey(key.get()), "RSA_ROCA_VULNERABLE");
}

TEST(KeyChecksTest, RefusesASmallPublicExponent) {
  auto key = testing::MakeWeakRsaKey("exponent-3");
  ASSERT_TRUE(key);
  ExpectRefused(testing::MakeCsrForKey(key.get()), "RSA_EXPONENT_WEAK");
}

TEST(KeyChecksTest, RefusesAnEvenPublicExponent) {
  BnPtr n(BN_new()), e(BN_new());
  BN_rand(n.get(), 2048, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD);
  BN_set_word(e.get(), 65538);
  Status st = CheckRsaPublicKey(n.get(), e.get());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().reason, "RSA_EXPONENT_WEAK");
}

TEST(KeyChecksTest, RefusesRsaShorterThan2048Bits) {
  ExpectRefused(testing::MakeCsr("rsa-1024").der, "RSA_TOO_SHORT");
}

TEST(KeyChecksTest, RefusesAnEcPointOffTheCurve) {
  ExpectRefused(testing::MakeCsrWithBadEcPoint("off-curve"), "EC_POINT_NOT_ON_CURVE");
}

TEST(KeyChecksTest, RefusesTheEcPointAtInfinity) {
  ExpectRefused(testing::MakeCsrWithBadEcPoint("infinity"), "EC_POINT_AT_INFINITY");
}

TEST(KeyChecksTest, SoundKeysPass) {
  for (const char* type : {"rsa-2048", "rsa-2048", "rsa-3072", "ec-p256", "ec-p384"}) {
    auto checked = issuance::CheckCsr(testing::MakeCsr(type).der, 16 * 1024);
    EXPECT_TRUE(checked.ok()) << type << ": " << checked.error().ToString();
  }
}

}  // namespace
}  // namespace station::policy
