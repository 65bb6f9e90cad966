#include "station/issuance/csr.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>

#include "station/pki/cert_builder.h"
#include "station/pki/der.h"
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

namespace der = pki::der;

// An EC key's SubjectPublicKeyInfo with its point in the given form.
Bytes EcSpki(EVP_PKEY* key, point_conversion_form_t form) {
  OsslPtr<EC_POINT, EC_POINT_free> point(nullptr);
  OsslPtr<EC_GROUP, EC_GROUP_free> group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  Bytes raw(65);
  size_t raw_len = 0;
  EXPECT_EQ(EVP_PKEY_get_octet_string_param(key, "encoded-pub-key", raw.data(), raw.size(), &raw_len), 1);
  point.reset(EC_POINT_new(group.get()));
  EXPECT_EQ(EC_POINT_oct2point(group.get(), point.get(), raw.data(), raw_len, nullptr), 1);
  Bytes encoded(EC_POINT_point2oct(group.get(), point.get(), form, nullptr, 0, nullptr));
  EC_POINT_point2oct(group.get(), point.get(), form, encoded.data(), encoded.size(), nullptr);
  Bytes spki = SpkiDer(key);
  // The uncompressed point is the last 65 bytes; the rest is the algorithm.
  der::View in(spki);
  der::Element outer, algorithm;
  EXPECT_TRUE(der::Read(in, der::kSequence, outer));
  der::View body = outer.content;
  EXPECT_TRUE(der::Read(body, der::kSequence, algorithm));
  Bytes out(algorithm.whole.begin(), algorithm.whole.end());
  Bytes bits = der::BitString(encoded);
  out.insert(out.end(), bits.begin(), bits.end());
  return der::Encode(der::kSequence, out);
}

// An RSA key's SubjectPublicKeyInfo with `parameters` after the OID and the
// modulus and exponent given `pad` leading zero octets each.
Bytes RsaSpki(const BIGNUM* n, const BIGNUM* e, const Bytes& parameters, size_t pad) {
  auto integer = [pad](const BIGNUM* v) {
    Bytes content(pad, 0);
    if (BN_num_bits(v) % 8 == 0) content.push_back(0);  // keep it positive
    Bytes mag(static_cast<size_t>(BN_num_bytes(v)));
    BN_bn2bin(v, mag.data());
    content.insert(content.end(), mag.begin(), mag.end());
    return der::Encode(der::kInteger, content);
  };
  Bytes key = integer(n);
  Bytes exponent = integer(e);
  key.insert(key.end(), exponent.begin(), exponent.end());
  Bytes algorithm = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
  algorithm.insert(algorithm.end(), parameters.begin(), parameters.end());
  Bytes out = der::Encode(der::kSequence, algorithm);
  Bytes bits = der::BitString(der::Encode(der::kSequence, key));
  out.insert(out.end(), bits.begin(), bits.end());
  return der::Encode(der::kSequence, out);
}

struct RsaParts {
  BnPtr n, e;
};
RsaParts PartsOf(EVP_PKEY* key) {
  RsaParts out;
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, "n", &n), 1);
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, "e", &e), 1);
  out.n.reset(n);
  out.e.reset(e);
  return out;
}

// One key, one certificate: each other encoding of a key the station takes
// would once have been certified again (and hashed as a different key).
TEST(CsrTest, AcceptsOnlyTheCanonicalEncodingOfAnEcKey) {
  auto csr = testing::MakeCsr("ec-p256");
  const Bytes subject = testing::SubjectDer("dev-1");
  auto canonical = CheckCsr(testing::MakeCsrFromParts(csr.key.get(), EcSpki(csr.key.get(), POINT_CONVERSION_UNCOMPRESSED), subject), kLimit);
  ASSERT_TRUE(canonical.ok()) << canonical.error().ToString();
  EXPECT_EQ(canonical->spki_der, SpkiDer(csr.key.get()));
  for (auto form : {POINT_CONVERSION_COMPRESSED, POINT_CONVERSION_HYBRID})
    ExpectRefused(testing::MakeCsrFromParts(csr.key.get(), EcSpki(csr.key.get(), form), subject), "KEY_NOT_CANONICAL");
}

TEST(CsrTest, AcceptsOnlyTheCanonicalEncodingOfAnRsaKey) {
  auto csr = testing::MakeCsr("rsa-2048");
  RsaParts rsa = PartsOf(csr.key.get());
  const Bytes subject = testing::SubjectDer("dev-1");
  const Bytes null_params = {der::kNull, 0x00};
  auto make = [&](const Bytes& params, size_t pad) {
    return testing::MakeCsrFromParts(csr.key.get(), RsaSpki(rsa.n.get(), rsa.e.get(), params, pad), subject);
  };
  auto canonical = CheckCsr(make(null_params, 0), kLimit);
  ASSERT_TRUE(canonical.ok()) << canonical.error().ToString();
  EXPECT_EQ(canonical->spki_der, SpkiDer(csr.key.get()));
  ExpectRefused(make(null_params, 1), "KEY_NOT_CANONICAL");  // leading zero octets
  ExpectRefused(make(null_params, 3), "KEY_NOT_CANONICAL");
  ExpectRefused(make({}, 0), "KEY_NOT_CANONICAL");  // parameters left out
  // Parameters after NULL: 920 bytes of the sender's choice in a CA-signed certificate.
  Bytes smuggled = null_params;
  der::Append(smuggled, 0x04, Bytes(920, 'A'));
  ExpectRefused(make(smuggled, 0), "KEY_NOT_CANONICAL");
  ExpectRefused(make(der::Encode(0x04, Bytes(920, 'A')), 0), "KEY_NOT_CANONICAL");
}

// Each bit of e costs every verify of the CSR: a 3072-bit e let one line burn
// a worker for the time of 60 ordinary requests.
TEST(CsrTest, RefusesAnRsaExponentOver32Bits) {
  auto csr = testing::MakeCsr("rsa-2048");
  RsaParts rsa = PartsOf(csr.key.get());
  const Bytes subject = testing::SubjectDer("dev-1");
  for (int bits : {33, 3072}) {
    BnPtr e(BN_new());
    ASSERT_TRUE(BN_set_bit(e.get(), bits - 1) && BN_set_bit(e.get(), 0));
    ExpectRefused(testing::MakeCsrFromParts(csr.key.get(), RsaSpki(rsa.n.get(), e.get(), {der::kNull, 0x00}, 0), subject),
                  "RSA_EXPONENT_TOO_LARGE");
  }
}

// The subject goes into the certificate re-encoded by DER rules from its
// values: a BER length the device chose is not signed by the CA.
TEST(CsrTest, ReencodesTheSubjectAndRefusesControlCharacters) {
  auto csr = testing::MakeCsr("ec-p256");
  const Bytes spki = SpkiDer(csr.key.get());
  // Name { RDN { CN, UTF8String "dev-1" } } with the string's length in long form.
  Bytes ber_cn = {0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x81, 0x05, 'd', 'e', 'v', '-', '1'};
  auto name = [](const Bytes& attribute) {
    return der::Encode(der::kSequence, der::Encode(der::kSet, der::Encode(der::kSequence, attribute)));
  };
  Bytes ber_subject = name(ber_cn);
  auto checked = CheckCsr(testing::MakeCsrFromParts(csr.key.get(), spki, ber_subject), kLimit);
  ASSERT_TRUE(checked.ok()) << checked.error().ToString();
  EXPECT_EQ(ToDer(checked->subject.get(), i2d_X509_NAME), testing::SubjectDer("dev-1"));
  auto cn_of = [&](uint8_t string_type, const std::string& value) {
    Bytes attribute = {0x06, 0x03, 0x55, 0x04, 0x03};
    der::Append(attribute, string_type, Bytes(value.begin(), value.end()));
    return testing::MakeCsrFromParts(csr.key.get(), spki, name(attribute));
  };
  for (const std::string& cn : {std::string("dev\0ice", 7), std::string("dev\nice"), std::string("dev\x7f")})
    ExpectRefused(cn_of(0x0c, cn), "SUBJECT_INVALID");  // UTF8String
  // Not UTF-8 (overlong, a surrogate): OpenSSL's Name decoder refuses them.
  for (const std::string& cn : {std::string("\xc0\xaf"), std::string("\xed\xa0\x80")})
    ExpectRefused(cn_of(0x0c, cn), "CSR_MALFORMED");
  ExpectRefused(cn_of(0x13, "dev@1"), "SUBJECT_INVALID");  // PrintableString has no '@'
  ExpectRefused(cn_of(0x1e, std::string("\0d\0e\0v", 6)), "SUBJECT_INVALID");  // BMPString
  EXPECT_TRUE(CheckCsr(cn_of(0x0c, "d\xc3\xa9v-1"), kLimit).ok());  // UTF-8 beyond ASCII is fine
}

}  // namespace
}  // namespace station::issuance
