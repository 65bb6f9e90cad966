#include "station/setup/aws_ca_registration.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "station/audit/record.h"
#include "station/base/text.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"

namespace station::setup {
namespace {

// The JITP parameters AWS IoT fills from the device certificate's subject
// (developer guide, "Just-in-time provisioning"), by the attribute's name.
const std::map<std::string, std::string>& JitpSubjectParameters() {
  static const std::map<std::string, std::string> names = {
      {"CN", "CommonName"}, {"serialNumber", "SerialNumber"}, {"O", "Organization"},
      {"OU", "OrganizationalUnit"}, {"C", "Country"}, {"ST", "StateName"},
      {"dnQualifier", "DistinguishedNameQualifier"}};
  return names;
}

}  // namespace

Result<std::string> JitpRegistrationConfig(const std::vector<std::string>& subject_attributes) {
  const auto& known = JitpSubjectParameters();
  if (std::find(subject_attributes.begin(), subject_attributes.end(), "CN") == subject_attributes.end())
    return MakeError(Code::kFailedPrecondition, "JITP_NEEDS_CN",
                     "the device certificates' subject has no CN, which a JITP template names the thing by");
  std::string parameters = R"("AWS::IoT::Certificate::Id":{"Type":"String"})";
  std::string attributes;
  for (const std::string& attribute : subject_attributes) {
    auto it = known.find(attribute);
    if (it == known.end()) continue;  // AWS IoT offers no parameter for it
    const std::string ref = "AWS::IoT::Certificate::" + it->second;
    if (parameters.find("\"" + ref + "\"") != std::string::npos) continue;
    parameters += ",\"" + ref + R"(":{"Type":"String"})";
    if (attribute != "CN")
      attributes += std::string(attributes.empty() ? "" : ",") + "\"" + attribute + R"(":{"Ref":")" + ref + "\"}";
  }
  std::string thing = R"("ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"})";
  if (!attributes.empty()) thing += ",\"AttributePayload\":{" + attributes + "}";
  const std::string body = "{\"Parameters\":{" + parameters + "},\"Resources\":{"
      R"("thing":{"Type":"AWS::IoT::Thing","Properties":{)" + thing + "}},"
      R"("certificate":{"Type":"AWS::IoT::Certificate","Properties":{)"
      R"("CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},)"
      R"("policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyName":"REPLACE_WITH_POLICY_NAME"}}}})";
  return "{\n  \"templateBody\": \"" + JsonEscape(body) +
         "\",\n  \"roleArn\": \"arn:aws:iam::REPLACE_WITH_ACCOUNT_ID:role/REPLACE_WITH_JITP_ROLE\"\n}\n";
}

Result<CaRegistration> MakeCaRegistration(hsm::TokenKey& ca_key, X509* ca_cert, const std::string& code,
                                          const std::vector<std::string>& subject_attributes) {
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
  ST_ASSIGN_OR_RETURN(out.registration_config_json, JitpRegistrationConfig(subject_attributes));
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
