#include "station/setup/aws_ca_registration.h"

#include <cctype>

#include "station/audit/record.h"
#include "station/base/text.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"

namespace station::setup {
namespace {

// A JITP provisioning template (AWS IoT developer guide, "Just-in-time
// provisioning"): thing named by the certificate's CN, an existing policy
// attached, certificate ACTIVE. With JITR (ops/aws/jitr_activation.py) it is
// not used: that function activates only what the station's export lists.
std::string RegistrationConfigTemplate() {
  const std::string body =
      R"({"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},)"
      R"("AWS::IoT::Certificate::SerialNumber":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},)"
      R"("Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{)"
      R"("ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"},)"
      R"("AttributePayload":{"serialNumber":{"Ref":"AWS::IoT::Certificate::SerialNumber"}}}},)"
      R"("certificate":{"Type":"AWS::IoT::Certificate","Properties":{)"
      R"("CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},)"
      R"("policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyName":"REPLACE_WITH_POLICY_NAME"}}}})";
  return "{\n  \"templateBody\": \"" + JsonEscape(body) +
         "\",\n  \"roleArn\": \"arn:aws:iam::REPLACE_WITH_ACCOUNT_ID:role/REPLACE_WITH_JITP_ROLE\"\n}\n";
}

}  // namespace

Result<CaRegistration> MakeCaRegistration(hsm::TokenKey& ca_key, X509* ca_cert, const std::string& code) {
  bool valid = !code.empty() && code.size() <= 64;
  for (char c : code) valid = valid && std::isalnum(static_cast<unsigned char>(c));
  if (!valid)
    return MakeError(Code::kInvalidArgument, "REGISTRATION_CODE_INVALID",
                     "a registration code is 1 to 64 letters and digits; get yours with `aws iot "
                     "get-registration-code` (64 hex digits)");
  ST_ASSIGN_OR_RETURN(auto verification_key, pki::GenerateSoftwareKey("ec-p256"));
  pki::CertSpec spec;
  spec.subject = "CN=" + code;
  spec.validity_days = 30;
  ST_ASSIGN_OR_RETURN(auto cert, pki::MakeCert(spec, verification_key.get(), ca_key.evp(), ca_cert));
  CaRegistration out;
  out.ca_pem = pki::CertPem(ca_cert);
  out.verification_pem = pki::CertPem(cert.get());
  out.registration_config_json = RegistrationConfigTemplate();
  return out;
}

CaRegistrationFiles CaRegistrationPaths(const std::string& dir) {
  return {dir + "/ca.pem", dir + "/verification.pem", dir + "/registration-config.json"};
}

std::string RegisterCaCommand(const CaRegistrationFiles& files) {
  return "aws iot register-ca-certificate --ca-certificate file://" + files.ca +
         " --verification-cert file://" + files.verification + " --set-as-active --allow-auto-registration";
}

}  // namespace station::setup
