// The shipped profiles (ops/profiles), each issuing a certificate checked
// field by field against its specification, then by `openssl verify
// -x509_strict` against its chain.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>


#include "station/base/files.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/policy/reservation.h"
#include "station/registry/registry_admin.h"
#include "station/runtime/station.h"
#include "tests/support/csr_factory.h"
#include "tests/support/station_fixture.h"
#include "tests/support/subprocess.h"

namespace station::issuance {
namespace {

const Caller kLine{"line-1", Role::kLine};

class ProfilesTest : public testing::StationTest {
 protected:
  void SetUp() override { Open(); }

  Result<Issued> Issue(IssueRequest request) { return Submit(kLine, std::move(request)); }

  IssueRequest Request(const std::string& profile, const std::string& device_id, const Bytes& csr) {
    IssueRequest r;
    r.request_id = profile + "-" + device_id + "-" + std::to_string(next_id_++);
    r.profile = profile;
    r.device_id = device_id;
    r.csr_der = csr;
    return r;
  }

  // `openssl verify -x509_strict` of the certificate with the chain it came
  // with, up to `root_pem`; with -purpose sslclient when asked.
  void ExpectOpensslVerifies(const Issued& issued, const std::string& root_pem, bool client_auth) {
    std::string dir = dev_->dir.path();
    std::string chain_pem;
    for (size_t i = 0; i < issued.chain_der.size(); ++i) {
      auto ca = pki::ParseCertDer(issued.chain_der[i]);
      ASSERT_TRUE(ca.ok());
      chain_pem += pki::CertPem(ca->get());
    }
    auto cert = pki::ParseCertDer(issued.certificate_der);
    ASSERT_TRUE(cert.ok());
    ASSERT_TRUE(base::WriteFile(dir + "/leaf.pem", pki::CertPem(cert->get())).ok());
    ASSERT_TRUE(base::WriteFile(dir + "/chain.pem", chain_pem).ok());
    std::vector<std::string> argv = {"/usr/bin/openssl", "verify", "-x509_strict", "-CAfile", root_pem, "-untrusted",
                                     dir + "/chain.pem"};
    if (client_auth) argv.insert(argv.end(), {"-purpose", "sslclient"});
    argv.push_back(dir + "/leaf.pem");
    auto result = testing::RunCommand(argv);
    EXPECT_EQ(result.exit_code, 0) << result.output;
  }

  int next_id_ = 0;
};

X509Ptr Parse(const Bytes& der) { return std::move(pki::ParseCertDer(der).value()); }

// The subject's entries as "TYPE=value/ASN1-string-type", in order.
std::vector<std::string> SubjectEntries(X509* cert) {
  std::vector<std::string> out;
  X509_NAME* name = X509_get_subject_name(cert);
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    char oid[80];
    OBJ_obj2txt(oid, sizeof oid, X509_NAME_ENTRY_get_object(e), 1);
    const ASN1_STRING* v = X509_NAME_ENTRY_get_data(e);
    out.push_back(std::string(oid) + "=" +
                  std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)), ASN1_STRING_length(v)) + "/" +
                  ASN1_tag2str(ASN1_STRING_type(v)));
  }
  return out;
}

// Extensions as "OID:critical" / "OID:noncritical", in order.
std::vector<std::string> Extensions(X509* cert) {
  std::vector<std::string> out;
  for (int i = 0; i < X509_get_ext_count(cert); ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert, i);
    char oid[80];
    OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(ext), 1);
    out.push_back(std::string(oid) + (X509_EXTENSION_get_critical(ext) ? ":critical" : ":noncritical"));
  }
  return out;
}

std::string TimeText(const ASN1_TIME* t) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)), ASN1_STRING_length(t)) + "/" +
         ASN1_tag2str(ASN1_STRING_type(t));
}

// The checks every profile's certificate passes (RFC 5280).
void ExpectCommonFields(X509* cert, X509* issuer) {
  EXPECT_EQ(X509_get_version(cert), X509_VERSION_3);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)), 0);
  EXPECT_EQ(X509_check_issued(issuer, cert), X509_V_OK);
  EXPECT_EQ(X509_check_ca(cert), 0) << "an end-entity certificate";
  const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(cert);
  ASSERT_NE(akid, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(akid, X509_get0_subject_key_id(issuer)), 0);
  EXPECT_NE(X509_get0_subject_key_id(cert), nullptr);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert)), 0);
}

TEST_F(ProfilesTest, AwsIotDeviceCertificate) {
  auto csr = testing::MakeCsr("ec-p256", "ignored");
  IssueRequest req = Request("aws-iot-device", "sensor-0001", csr.der);
  req.thing_name = "Sensor_0001";
  req.thing_type = "sensor-v2";
  req.thing_attributes = {{"batch", "B-17"}, {"color", "red"}};
  auto issued = Issue(req);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  auto cert = Parse(issued->certificate_der);
  X509* ca = station_->ca()->cert();
  ExpectCommonFields(cert.get(), ca);
  // CN = the thing name, the MQTT client id the IoT policy matches.
  EXPECT_EQ(SubjectEntries(cert.get()), std::vector<std::string>({"2.5.4.3=Sensor_0001/UTF8STRING"}));
  EXPECT_EQ(Extensions(cert.get()),
            std::vector<std::string>({"2.5.29.19:critical", "2.5.29.15:critical", "2.5.29.37:noncritical",
                                      "2.5.29.14:noncritical", "2.5.29.35:noncritical"}));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  // The chain carries the CA certificate the device presents on first connection.
  ASSERT_EQ(issued->chain_der.size(), 1u);
  EXPECT_EQ(issued->chain_der[0], CertDer(ca));
  // Valid until the CA expires (20 years asked, clamped to the CA).
  EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notAfter(ca)), 0);
  // The thing fields are recorded for the cloud side.
  auto record = station_->store().FindByRequest("line-1", req.request_id);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->thing_name, "Sensor_0001");
  EXPECT_EQ((*record)->thing_type, "sensor-v2");
  EXPECT_EQ((*record)->thing_attributes, R"({"batch":"B-17","color":"red"})");
  ExpectOpensslVerifies(*issued, dev_->setup.ca_cert, true);
}

TEST_F(ProfilesTest, AwsIotDeviceThingNameDefaultsToDeviceIdAndIsValidated) {
  auto issued = Issue(Request("aws-iot-device", "dev-42", testing::MakeCsr("ec-p256").der));
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  EXPECT_EQ(SubjectEntries(Parse(issued->certificate_der).get()),
            std::vector<std::string>({"2.5.4.3=dev-42/UTF8STRING"}));
  IssueRequest bad = Request("aws-iot-device", "dev-43", testing::MakeCsr("ec-p256").der);
  bad.thing_name = "has space";
  auto refused = Issue(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "THING_NAME_INVALID");
  IssueRequest bad_attr = Request("aws-iot-device", "dev-44", testing::MakeCsr("ec-p256").der);
  bad_attr.thing_attributes = {{"note", "no spaces allowed"}};
  refused = Issue(bad_attr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "THING_ATTRIBUTE_INVALID");
}

TEST_F(ProfilesTest, Ieee8021arIdevid) {
  auto csr = testing::MakeCsr("ec-p384");
  IssueRequest req = Request("ieee-802.1ar-idevid", "SN-000123", csr.der);
  req.attributes = {{"hw_type", "1.3.6.1.4.1.99999.1.7"}, {"hw_serial", "HW-000123"}};
  auto issued = Issue(req);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  auto cert = Parse(issued->certificate_der);
  ExpectCommonFields(cert.get(), station_->ca()->cert());
  // 802.1AR 8.6: the device serial number in the subject's serialNumber (PrintableString).
  EXPECT_EQ(SubjectEntries(cert.get()), std::vector<std::string>({"2.5.4.10=Example Manufacturing/UTF8STRING",
                                                                   "2.5.4.5=SN-000123/PRINTABLESTRING"}));
  // RFC 5280 4.1.2.5: no well-defined expiration, as GeneralizedTime.
  EXPECT_EQ(TimeText(X509_get0_notAfter(cert.get())), "99991231235959Z/GENERALIZEDTIME");
  EXPECT_EQ(Extensions(cert.get()), std::vector<std::string>({"2.5.29.19:critical", "2.5.29.15:critical",
                                                              "2.5.29.14:noncritical", "2.5.29.35:noncritical",
                                                              "2.5.29.17:noncritical"}));
  // RFC 4108 5: SAN otherName hardwareModuleName { hwType, hwSerialNum }.
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(names, nullptr);
  ASSERT_EQ(sk_GENERAL_NAME_num(names), 1);
  ASN1_OBJECT* type = nullptr;
  ASN1_TYPE* value = nullptr;
  ASSERT_EQ(GENERAL_NAME_get0_otherName(sk_GENERAL_NAME_value(names, 0), &type, &value), 1);
  char oid[64];
  OBJ_obj2txt(oid, sizeof oid, type, 1);
  EXPECT_STREQ(oid, "1.3.6.1.5.5.7.8.4");
  ASSERT_EQ(value->type, V_ASN1_SEQUENCE);
  const unsigned char* p = value->value.sequence->data;
  long len = 0;
  int tag = 0, cls = 0;
  ASN1_get_object(&p, &len, &tag, &cls, value->value.sequence->length);
  ASN1_OBJECT* hw_type = d2i_ASN1_OBJECT(nullptr, &p, len);
  ASN1_OCTET_STRING* hw_serial = d2i_ASN1_OCTET_STRING(nullptr, &p, len);
  ASSERT_TRUE(hw_type && hw_serial);
  OBJ_obj2txt(oid, sizeof oid, hw_type, 1);
  EXPECT_STREQ(oid, "1.3.6.1.4.1.99999.1.7");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(hw_serial->data), hw_serial->length), "HW-000123");
  ASN1_OBJECT_free(hw_type);
  ASN1_OCTET_STRING_free(hw_serial);
  GENERAL_NAMES_free(names);
  ExpectOpensslVerifies(*issued, dev_->setup.ca_cert, false);

  // Without the hardware attributes there is no SubjectAltName.
  auto plain = Issue(Request("ieee-802.1ar-idevid", "SN-000124", testing::MakeCsr("ec-p256").der));
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  EXPECT_EQ(X509_get_ext_by_NID(Parse(plain->certificate_der).get(), NID_subject_alt_name, -1), -1);
}

TEST_F(ProfilesTest, MatterDacUnderThePai) {
  registry::Lot lot{"lot-1", "matter-dac", {"dac-0001", "dac-0002"}, "test", ""};
  auto imported = station_->registry_desk().ImportLot("officer-1", lot);
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  auto csr = testing::MakeCsr("ec-p256");
  IssueRequest req = Request("matter-dac", "dac-0001", csr.der);
  req.attributes = {{"vendor_id", "FFF1"}, {"product_id", "8000"}};
  auto issued = Issue(req);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  auto cert = Parse(issued->certificate_der);
  ASSERT_EQ(issued->chain_der.size(), 1u);
  auto pai = Parse(issued->chain_der[0]);
  ExpectCommonFields(cert.get(), pai.get());
  // Matter Core 6.2.2.3: VID and PID as UTF8String of four upper-case hex digits.
  EXPECT_EQ(SubjectEntries(cert.get()),
            std::vector<std::string>({"2.5.4.3=dac-0001/UTF8STRING", "1.3.6.1.4.1.37244.2.1=FFF1/UTF8STRING",
                                      "1.3.6.1.4.1.37244.2.2=8000/UTF8STRING"}));
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(TimeText(X509_get0_notAfter(cert.get())), "99991231235959Z/GENERALIZEDTIME");
  EXPECT_EQ(Extensions(cert.get()), std::vector<std::string>({"2.5.29.19:critical", "2.5.29.15:critical",
                                                              "2.5.29.14:noncritical", "2.5.29.35:noncritical"}));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  ExpectOpensslVerifies(*issued, dev_->setup.matter_paa_cert, false);

  struct Case {
    std::string device, vendor, product, key, reason;
  };
  for (const Case& c : std::vector<Case>{
           {"dac-0002", "FFF2", "8000", "ec-p256", "SUBJECT_ISSUER_MISMATCH"},  // the PAI names FFF1
           {"dac-0002", "fff1", "8000", "ec-p256", "ATTRIBUTE_INVALID"},        // upper-case hex only
           {"dac-0002", "FFF1", "8000", "ec-p384", "KEY_NOT_ALLOWED"},          // P-256 only
           {"dac-9999", "FFF1", "8000", "ec-p256", "DEVICE_NOT_AUTHORIZED"},    // not on the lot
           {"dac-0001", "FFF1", "8000", "ec-p256", "DUPLICATE_DEVICE"},         // one per device
       }) {
    IssueRequest bad = Request("matter-dac", c.device, testing::MakeCsr(c.key).der);
    bad.attributes = {{"vendor_id", c.vendor}, {"product_id", c.product}};
    auto r = Issue(bad);
    ASSERT_FALSE(r.ok()) << c.reason;
    EXPECT_EQ(r.error().reason, c.reason) << r.error().message;
  }
}

TEST_F(ProfilesTest, FleetClaimIsShortLivedAndTakesOneCodeEach) {
  auto minted = station_->registry_desk().MintCodes("officer-1", "fleet-claim", 2, 300);
  ASSERT_TRUE(minted.ok()) << minted.error().ToString();
  const auto* codes = &minted->codes;
  IssueRequest req = Request("fleet-claim", "installer-7", testing::MakeCsr("ec-p256").der);
  req.attributes = {{"registration_code", (*codes)[0].code}};
  auto issued = Issue(req);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  auto cert = Parse(issued->certificate_der);
  // Under the claim CA, never the CA registered for JITR (docs/aws.md).
  auto claim_ca = pki::ReadCertsPem(dev_->setup.claim_ca_cert);
  ASSERT_TRUE(claim_ca.ok());
  ExpectCommonFields(cert.get(), claim_ca->front().get());
  EXPECT_NE(X509_check_issued(station_->ca()->cert(), cert.get()), X509_V_OK);
  EXPECT_EQ(SubjectEntries(cert.get()), std::vector<std::string>({"2.5.4.3=claim-installer-7/UTF8STRING"}));
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())), 1);
  EXPECT_EQ(days * 86400 + seconds, 6 * 60) << "1 minute backdated, 5 minutes ahead";
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  ExpectOpensslVerifies(*issued, dev_->setup.claim_ca_cert, true);
  auto record = station_->store().FindByRequest("line-1", req.request_id);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->authorization, "code:" + policy::CodeHash((*codes)[0].code).substr(0, 16));

  // The same code again (another request), no code, an unknown code: refused.
  for (const std::string& code : {(*codes)[0].code, std::string(), std::string("NOT-A-CODE")}) {
    IssueRequest again = Request("fleet-claim", "installer-8", testing::MakeCsr("ec-p256").der);
    if (!code.empty()) again.attributes = {{"registration_code", code}};
    auto r = Issue(again);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kPermissionDenied);
    EXPECT_EQ(r.error().reason, "DEVICE_NOT_AUTHORIZED") << r.error().message;
  }
  // A retry of the first request still gets its certificate.
  auto retry = Issue(req);
  ASSERT_TRUE(retry.ok()) << retry.error().ToString();
  EXPECT_TRUE(retry->replayed);
}

}  // namespace
}  // namespace station::issuance
