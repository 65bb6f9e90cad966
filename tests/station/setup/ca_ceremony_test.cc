// The key ceremony against a fresh SoftHSM token: keys made and read back,
// keys the station must refuse (extractable, imported, too broad), CA
// certificates checked against the root, and AWS IoT's verification
// certificate.
#include <gtest/gtest.h>
#include <openssl/core_names.h>

#include "hsm/key_attributes.h"
#include "station/base/files.h"
#include "station/issuance/certificate_authority.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/runtime/audit_signer.h"
#include "station/runtime/station.h"
#include "station/setup/aws_ca_registration.h"
#include "station/setup/ca_init.h"
#include "tests/support/dev_station.h"

namespace station::setup {
namespace {

// DER of the P-256 namedCurve OID (CKA_EC_PARAMS).
const Bytes kP256Params = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

class CaCeremonyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_ = testing::MakeDevStation();
    ASSERT_TRUE(dev_);
    auto token = runtime::OpenToken(dev_->config.token, 4);
    ASSERT_TRUE(token.ok()) << token.error().ToString();
    token_ = *token;
  }

  // An EC key pair made by the token from a template the station never uses.
  void GenerateLoose(const std::string& label, bool extractable, bool derive) {
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_BBOOL ext = extractable ? CK_TRUE : CK_FALSE, der = derive ? CK_TRUE : CK_FALSE;
    Bytes id(label.begin(), label.end());
    auto* l = const_cast<char*>(label.data());
    std::vector<CK_ATTRIBUTE> pub{{CKA_TOKEN, &yes, 1}, {CKA_VERIFY, &yes, 1},
                                  {CKA_EC_PARAMS, const_cast<uint8_t*>(kP256Params.data()), kP256Params.size()},
                                  {CKA_LABEL, l, label.size()}, {CKA_ID, id.data(), id.size()}};
    std::vector<CK_ATTRIBUTE> priv{{CKA_TOKEN, &yes, 1},       {CKA_PRIVATE, &yes, 1}, {CKA_SENSITIVE, &yes, 1},
                                   {CKA_EXTRACTABLE, &ext, 1}, {CKA_SIGN, &yes, 1},    {CKA_DERIVE, &der, 1},
                                   {CKA_DECRYPT, &no, 1},      {CKA_LABEL, l, label.size()},
                                   {CKA_ID, id.data(), id.size()}};
    CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE pub_h, priv_h;
    Status st = token_->Run("C_GenerateKeyPair", [&](CK_SESSION_HANDLE s) {
      return token_->fn()->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &pub_h,
                                             &priv_h);
    });
    ASSERT_TRUE(st.ok()) << st.error().ToString();
  }

  // A P-256 key made in software and written into the token (CKA_LOCAL false),
  // as someone would who kept a copy.
  void Import(const std::string& label) {
    auto soft = pki::GenerateSoftwareKey("ec-p256");
    ASSERT_TRUE(soft.ok());
    BIGNUM* d = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(soft->get(), OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
    Bytes scalar(32);
    ASSERT_EQ(BN_bn2binpad(d, scalar.data(), 32), 32);
    BN_clear_free(d);
    uint8_t point[65];
    size_t point_len = 0;
    ASSERT_EQ(EVP_PKEY_get_octet_string_param(soft->get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &point_len), 1);
    Bytes ec_point{0x04, static_cast<uint8_t>(point_len)};  // DER OCTET STRING around the point
    ec_point.insert(ec_point.end(), point, point + point_len);
    CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
    CK_KEY_TYPE ec = CKK_EC;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    Bytes id(label.begin(), label.end());
    auto* l = const_cast<char*>(label.data());
    auto* params = const_cast<uint8_t*>(kP256Params.data());
    std::vector<CK_ATTRIBUTE> priv{{CKA_CLASS, &priv_class, sizeof priv_class}, {CKA_KEY_TYPE, &ec, sizeof ec},
                                   {CKA_TOKEN, &yes, 1}, {CKA_PRIVATE, &yes, 1}, {CKA_SENSITIVE, &yes, 1},
                                   {CKA_EXTRACTABLE, &no, 1}, {CKA_SIGN, &yes, 1},
                                   {CKA_EC_PARAMS, params, kP256Params.size()},
                                   {CKA_VALUE, scalar.data(), scalar.size()}, {CKA_LABEL, l, label.size()},
                                   {CKA_ID, id.data(), id.size()}};
    std::vector<CK_ATTRIBUTE> pub{{CKA_CLASS, &pub_class, sizeof pub_class}, {CKA_KEY_TYPE, &ec, sizeof ec},
                                  {CKA_TOKEN, &yes, 1}, {CKA_VERIFY, &yes, 1},
                                  {CKA_EC_PARAMS, params, kP256Params.size()},
                                  {CKA_EC_POINT, ec_point.data(), ec_point.size()}, {CKA_LABEL, l, label.size()},
                                  {CKA_ID, id.data(), id.size()}};
    for (auto* tmpl : {&priv, &pub}) {
      CK_OBJECT_HANDLE h;
      Status st = token_->Run("C_CreateObject", [&](CK_SESSION_HANDLE s) {
        return token_->fn()->C_CreateObject(s, tmpl->data(), tmpl->size(), &h);
      });
      ASSERT_TRUE(st.ok()) << st.error().ToString();
    }
  }

  std::shared_ptr<hsm::TokenKey> FindByLabel(const std::string& label) {
    auto key = hsm::TokenKey::Find(token_, hsm::PrivateKeyUri("", label));
    EXPECT_TRUE(key.ok()) << key.error().ToString();
    return key.ok() ? *key : nullptr;
  }

  // A self-signed CA certificate for the key, in DIR/LABEL.pem.
  std::string SelfSignedFile(hsm::TokenKey& key) {
    CaCertRequest request;
    request.subject = "CN=" + key.label();
    auto pem = MakeCaCertPem(key, request);
    EXPECT_TRUE(pem.ok()) << pem.error().ToString();
    std::string path = dev_->dir.path() + "/" + key.label() + ".pem";
    EXPECT_TRUE(base::WriteFile(path, pem.ok() ? *pem : "", 0644).ok());
    return path;
  }

  void ExpectRefused(const std::string& label, const std::string& reason) {
    auto opened = OpenCaKey(token_, label);
    ASSERT_FALSE(opened.ok()) << label;
    EXPECT_EQ(opened.error().reason, reason) << opened.error().ToString();
    EXPECT_EQ(opened.error().code, Code::kFailedPrecondition);
    // The server's own load of a CA refuses it the same way.
    auto key = FindByLabel(label);
    ASSERT_TRUE(key);
    std::string cert = SelfSignedFile(*key);
    auto ca = issuance::CertificateAuthority::Load(key, cert);
    ASSERT_FALSE(ca.ok());
    EXPECT_EQ(ca.error().reason, reason) << ca.error().ToString();
  }

  std::unique_ptr<testing::DevStation> dev_;
  std::shared_ptr<hsm::Token> token_;
};

TEST_F(CaCeremonyTest, KeygenReadsBackASignOnlyKeyForEveryCaAlgorithm) {
  for (const char* name : {"ec-p256", "ec-p384", "rsa-3072", "rsa-4096"}) {
    auto alg = ParseCaKeyAlgorithm(name);
    ASSERT_TRUE(alg.ok()) << name;
    auto made = GenerateCaKey(token_, *alg, std::string("ca-") + name);
    ASSERT_TRUE(made.ok()) << name << ": " << made.error().ToString();
    const hsm::KeyAttributes& a = made->attributes;
    EXPECT_TRUE(a.local && a.sensitive && a.always_sensitive && a.never_extractable && a.is_private && a.token &&
                a.sign)
        << name << ": " << hsm::DescribeKeyAttributes(a);
    EXPECT_FALSE(a.extractable || a.decrypt || a.unwrap || a.derive || a.sign_recover)
        << name << ": " << hsm::DescribeKeyAttributes(a);
    EXPECT_EQ(made->key_uri, "pkcs11:token=station;object=ca-" + std::string(name) + ";type=private");
    // Reopened by label, it passes the checks and signs a CA certificate that verifies.
    auto reopened = OpenCaKey(token_, std::string("ca-") + name);
    ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
    auto certs = pki::ReadCertsPem(SelfSignedFile(*reopened->key));
    ASSERT_TRUE(certs.ok());
    EXPECT_EQ(X509_verify(certs->front().get(), made->key->evp()), 1) << name;
    EXPECT_EQ(X509_check_ca(certs->front().get()), 1) << name;
  }
  for (const char* name : {"ed25519", "rsa-1024", ""}) EXPECT_FALSE(ParseCaKeyAlgorithm(name).ok()) << name;
  auto again = GenerateCaKey(token_, hsm::KeyAlgorithm::kEcP256, "ca-ec-p256");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason, "KEY_EXISTS");
}

TEST_F(CaCeremonyTest, RefusesAnExtractableKeyAsCaKeyAtStartAndAsAuditKey) {
  GenerateLoose("loose", /*extractable=*/true, /*derive=*/false);
  ExpectRefused("loose", "KEY_EXTRACTABLE");
  // A station configured with it does not start.
  config::StationConfig config = dev_->config;
  auto key = FindByLabel("loose");
  ASSERT_TRUE(key);
  config.ca.key_uri = "pkcs11:token=station;object=loose;type=private";
  config.ca.certificate = SelfSignedFile(*key);
  config.ca.root = config.ca.certificate;
  testing::TempDir profiles;  // one profile under [ca]
  ASSERT_TRUE(base::WriteFile(profiles.path() + "/only.toml", "lines = [\"*\"]\n").ok());
  config.issuance.profiles_dir = profiles.path();
  config.issuance.pipeline.default_profile.clear();
  auto station = runtime::Station::Open(config);
  ASSERT_FALSE(station.ok());
  EXPECT_EQ(station.error().reason, "KEY_EXTRACTABLE") << station.error().ToString();
  // Nor does the audit signer take it.
  config::AuditConfig audit = dev_->config.audit;
  audit.key_uri = config.ca.key_uri;
  auto signer = runtime::OpenAuditSigner(token_, audit);
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.error().reason, "KEY_EXTRACTABLE") << signer.error().ToString();
}

TEST_F(CaCeremonyTest, RefusesAKeyImportedIntoTheToken) {
  Import("imported");
  auto key = FindByLabel("imported");
  ASSERT_TRUE(key);
  auto attrs = hsm::ReadKeyAttributes(*key);
  ASSERT_TRUE(attrs.ok());
  EXPECT_FALSE(attrs->local);
  EXPECT_FALSE(attrs->extractable);
  ExpectRefused("imported", "KEY_NOT_LOCAL");
}

TEST_F(CaCeremonyTest, RefusesAKeyThatMayAlsoDeriveUntilRestricted) {
  GenerateLoose("ecdh-too", /*extractable=*/false, /*derive=*/true);
  ExpectRefused("ecdh-too", "KEY_USAGE_TOO_BROAD");
  // `ca restrict` repairs that (a key an older station made may still allow unwrap)...
  auto key = FindByLabel("ecdh-too");
  ASSERT_TRUE(key);
  ASSERT_TRUE(hsm::RestrictToSigning(*key).ok());
  auto opened = OpenCaKey(token_, "ecdh-too");
  EXPECT_TRUE(opened.ok()) << opened.error().ToString();
  // ...but not an extractable key.
  GenerateLoose("loose", /*extractable=*/true, /*derive=*/false);
  auto loose = FindByLabel("loose");
  ASSERT_TRUE(loose);
  ASSERT_TRUE(hsm::RestrictToSigning(*loose).ok());
  ExpectRefused("loose", "KEY_EXTRACTABLE");
}

TEST_F(CaCeremonyTest, CaCertificateMustChainToTheConfiguredRoot) {
  // A root and an issuing CA under it, both in the token; another root beside.
  CaCertRequest root_request;
  root_request.subject = "CN=Test Root,O=Acme";
  root_request.path_len = 1;
  auto root = InitSelfSignedCa(token_, hsm::KeyAlgorithm::kEcP384, "root", root_request);
  ASSERT_TRUE(root.ok()) << root.error().ToString();
  auto other = InitSelfSignedCa(token_, hsm::KeyAlgorithm::kEcP256, "other-root", root_request);
  ASSERT_TRUE(other.ok());
  std::string root_file = dev_->dir.path() + "/root.pem", other_file = dev_->dir.path() + "/other.pem";
  ASSERT_TRUE(base::WriteFile(root_file, root->cert_pem).ok());
  ASSERT_TRUE(base::WriteFile(other_file, other->cert_pem).ok());
  auto root_cert = pki::ParseCertsPem(root->cert_pem, "root");
  ASSERT_TRUE(root_cert.ok());
  auto issuing = GenerateCaKey(token_, hsm::KeyAlgorithm::kEcP256, "issuing");
  ASSERT_TRUE(issuing.ok());
  CaCertRequest request;
  request.subject = "CN=Issuing CA,O=Acme";
  request.issuer_key = root->key.key.get();
  request.issuer_cert = root_cert->front().get();
  auto pem = MakeCaCertPem(*issuing->key, request);
  ASSERT_TRUE(pem.ok());

  EXPECT_TRUE(CheckCaCertificate(*pem, *issuing->key, root_file).ok());
  auto no_root = CheckCaCertificate(*pem, *issuing->key, "");
  ASSERT_FALSE(no_root.ok());
  EXPECT_EQ(no_root.error().reason, "CA_ROOT_NOT_CONFIGURED");
  auto wrong_root = CheckCaCertificate(*pem, *issuing->key, other_file);
  ASSERT_FALSE(wrong_root.ok());
  EXPECT_EQ(wrong_root.error().reason, "CA_CHAIN_INVALID") << wrong_root.error().ToString();
  auto wrong_key = CheckCaCertificate(*pem, *root->key.key, root_file);
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.error().reason, "CA_CERT_KEY_MISMATCH");
  // A certificate for the key that is not a CA certificate.
  pki::CertSpec leaf;
  leaf.subject = "CN=Not A CA";
  auto not_ca = pki::MakeCert(leaf, issuing->key->evp(), root->key.key->evp(), root_cert->front().get());
  ASSERT_TRUE(not_ca.ok());
  auto refused = CheckCaCertificate(pki::CertPem(not_ca->get()), *issuing->key, root_file);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "CA_CERT_NOT_CA");
  // The same chain check runs when a CA is loaded to issue.
  std::string issuing_file = dev_->dir.path() + "/issuing.pem";
  ASSERT_TRUE(base::WriteFile(issuing_file, *pem).ok());
  EXPECT_TRUE(issuance::CertificateAuthority::Load(issuing->key, issuing_file, root_file).ok());
  auto swapped = issuance::CertificateAuthority::Load(issuing->key, issuing_file, other_file);
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.error().reason, "CA_CHAIN_INVALID");
}

TEST_F(CaCeremonyTest, VerificationCertificateCarriesTheCodeAndVerifiesAgainstTheCa) {
  auto ca_key = OpenCaKey(token_, "station-ca");
  ASSERT_TRUE(ca_key.ok()) << ca_key.error().ToString();
  auto ca_cert = pki::ReadCertsPem(dev_->config.ca.certificate);
  ASSERT_TRUE(ca_cert.ok());
  const std::string code = "7c8d1a2e4f6b8091a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9";
  auto made = MakeCaRegistration(*ca_key->key, ca_cert->front().get(), code);
  ASSERT_TRUE(made.ok()) << made.error().ToString();
  auto verification = pki::ParseCertsPem(made->verification_pem, "verification");
  ASSERT_TRUE(verification.ok());
  X509* v = verification->front().get();
  X509* ca = ca_cert->front().get();
  EXPECT_EQ(X509_verify(v, X509_get0_pubkey(ca)), 1);
  EXPECT_EQ(X509_check_issued(ca, v), X509_V_OK);
  EXPECT_EQ(pki::NameText(X509_get_subject_name(v)), "CN=" + code);
  EXPECT_EQ(X509_check_ca(v), 0);
  EXPECT_NE(EVP_PKEY_eq(X509_get0_pubkey(v), X509_get0_pubkey(ca)), 1);  // a key pair of its own
  EXPECT_EQ(made->ca_pem, pki::CertPem(ca));
  // Another CA's key did not sign it.
  auto paa = pki::ReadCertsPem(dev_->setup.matter_paa_cert);
  ASSERT_TRUE(paa.ok());
  EXPECT_NE(X509_verify(v, X509_get0_pubkey(paa->front().get())), 1);
  EXPECT_NE(made->registration_config_json.find("\"templateBody\""), std::string::npos);
  EXPECT_NE(made->registration_config_json.find("\"roleArn\""), std::string::npos);
  // JITP fails for every device if the template names what the subject lacks:
  // the aws-iot-device subject is a CN alone.
  EXPECT_NE(made->registration_config_json.find("AWS::IoT::Certificate::CommonName"), std::string::npos);
  EXPECT_EQ(made->registration_config_json.find("SerialNumber"), std::string::npos) << made->registration_config_json;
  auto with_serial = JitpRegistrationConfig({"CN", "serialNumber", "L"});
  ASSERT_TRUE(with_serial.ok());
  EXPECT_NE(with_serial->find("\\\"serialNumber\\\":{\\\"Ref\\\":\\\"AWS::IoT::Certificate::SerialNumber\\\"}"),
            std::string::npos) << *with_serial;
  EXPECT_EQ(with_serial->find("Locality"), std::string::npos) << "AWS IoT offers no parameter for L";
  EXPECT_EQ(JitpRegistrationConfig({"serialNumber"}).error().reason, "JITP_NEEDS_CN");
  for (const std::string& bad : std::vector<std::string>{"", std::string(65, 'a'), "code with space", "x;rm", "CN=x"}) {
    auto refused = MakeCaRegistration(*ca_key->key, ca, bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().reason, "REGISTRATION_CODE_INVALID");
  }
}

// The CA loader takes only the key kinds X.509 issuance here supports: an
// Ed25519 key in the token (the audit key's kind) is refused as a CA key.
TEST_F(CaCeremonyTest, AnEd25519TokenKeyIsRefusedAsACaKey) {
  hsm::KeygenRequest request;
  request.algorithm = hsm::KeyAlgorithm::kEd25519;
  request.label = "not-a-ca";
  auto key = hsm::GenerateKeyPair(token_, request);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  auto ca_use = issuance::CertificateAuthority::Load(*key, dev_->config.ca.certificate);
  ASSERT_FALSE(ca_use.ok());
  EXPECT_EQ(ca_use.error().reason, "UNSUPPORTED_CA_KEY");
}

}  // namespace
}  // namespace station::setup
