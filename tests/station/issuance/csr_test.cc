#include "station/issuance/csr.h"

#include <gtest/gtest.h>

#include "station/pki/cert_builder.h"
#include "tests/support/csr_factory.h"

namespace station::issuance {
namespace {

constexpr size_t kLimit = 16 * 1024;

void ExpectRefused(const Bytes& der, const std::string& reason) {
  auto checked = CheckCsr(der, kLimit);
  ASSERT_FALSE(checked.ok()) << "expected " << reason;
  EXPECT_EQ(checked.error().code, Code::kInvalidArgument);
  EXPECT_EQ(checked.error().reason, reason) << checked.error().message;
  EXPECT_FALSE(checked.error().message.empty());
}

TEST(CsrTest, AcceptsSupportedKeys) {
  for (const char* type : {"ec-p256", "ec-p384", "rsa-2048", "rsa-3072"}) {
    auto csr = testing::MakeCsr(type);
    auto checked = CheckCsr(csr.der, kLimit);
    ASSERT_TRUE(checked.ok()) << type << ": " << checked.error().ToString();
    EXPECT_EQ(checked->key_type, type);
    EXPECT_EQ(checked->csr_sha256, Sha256(csr.der));
    EXPECT_EQ(EVP_PKEY_eq(checked->public_key.get(), csr.key.get()), 1);
  }
}

TEST(CsrTest, RefusesGarbageTruncatedAndTrailingBytes) {
  ExpectRefused({}, "CSR_EMPTY");
  ExpectRefused(Bytes{0x30, 0x03, 0x02, 0x01, 0x00}, "CSR_MALFORMED");
  ExpectRefused(Bytes(100, 0x41), "CSR_MALFORMED");
  auto csr = testing::MakeCsr("ec-p256");
  ExpectRefused(Bytes(csr.der.begin(), csr.der.begin() + csr.der.size() / 2), "CSR_MALFORMED");
  Bytes trailing = csr.der;
  trailing.push_back(0x00);
  ExpectRefused(trailing, "CSR_MALFORMED");
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----";
  ExpectRefused(Bytes(pem.begin(), pem.end()), "CSR_MALFORMED");
}

TEST(CsrTest, RefusesOversizedBeforeParsing) {
  ExpectRefused(Bytes(kLimit + 1, 0x30), "CSR_TOO_LARGE");
}

TEST(CsrTest, RefusesTamperedSignature) {
  for (const char* type : {"ec-p256", "rsa-2048"}) {
    auto csr = testing::MakeCsr(type);
    ExpectRefused(testing::TamperSignature(csr.der), "CSR_BAD_SIGNATURE");
  }
}

TEST(CsrTest, RefusesWeakAndUnsupportedKeys) {
  ExpectRefused(testing::MakeCsr("rsa-1024").der, "RSA_TOO_SHORT");
  ExpectRefused(testing::MakeCsr("ec-p521").der, "KEY_UNSUPPORTED");
}

TEST(CsrTest, ReadsStrictDerOnly) {
  auto csr = testing::MakeCsr("ec-p256");
  ASSERT_EQ(csr.der[0], 0x30);
  ASSERT_EQ(csr.der[1], 0x81);  // a P-256 request is 128 to 255 bytes long
  // The same length in a longer form than needed, and an indefinite length.
  Bytes long_form = {0x30, 0x82, 0x00, csr.der[2]};
  long_form.insert(long_form.end(), csr.der.begin() + 3, csr.der.end());
  ExpectRefused(long_form, "CSR_MALFORMED");
  Bytes indefinite = {0x30, 0x80};
  indefinite.insert(indefinite.end(), csr.der.begin() + 3, csr.der.end());
  indefinite.insert(indefinite.end(), {0x00, 0x00});
  ExpectRefused(indefinite, "CSR_MALFORMED");
}

TEST(CsrTest, RefusesSha1AndMismatchedSignatureAlgorithms) {
  auto key = pki::GenerateSoftwareKey("ec-p256");
  ASSERT_TRUE(key.ok());
  X509ReqPtr req(X509_REQ_new());
  ASSERT_TRUE(req && X509_REQ_set_pubkey(req.get(), key->get()) == 1);
  ASSERT_GT(X509_REQ_sign(req.get(), key->get(), EVP_sha1()), 0);
  ExpectRefused(CsrDer(req.get()), "CSR_BAD_SIGNATURE");
}

TEST(CsrTest, KeepsTheKeyAsSentForTheCertificate) {
  for (const char* type : {"ec-p256", "rsa-2048"}) {
    auto csr = testing::MakeCsr(type);
    auto checked = CheckCsr(csr.der, kLimit);
    ASSERT_TRUE(checked.ok()) << checked.error().ToString();
    EXPECT_EQ(checked->spki_der, SpkiDer(csr.key.get())) << type;
    X509_PUBKEY* spki = nullptr;  // the subjectKeyIdentifier as OpenSSL would compute it
    ASSERT_EQ(X509_PUBKEY_set(&spki, csr.key.get()), 1);
    EXPECT_EQ(checked->key_identifier, pki::KeyIdentifier(spki)) << type;
    X509_PUBKEY_free(spki);
  }
}

}  // namespace
}  // namespace station::issuance
