#include "station/setup/aws_claim.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "station/base/args.h"
#include "station/base/text.h"

namespace station::setup {
namespace {

bool AllOf(std::string_view s, size_t min, size_t max, std::string_view extra) {
  if (s.size() < min || s.size() > max) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && extra.find(static_cast<char>(c)) == std::string_view::npos) return false;
  return true;
}

std::string Role(const ClaimSetupRequest& r) {
  return r.role_arn.empty() ? "arn:aws:iam::" + r.account_id + ":role/REPLACE_WITH_PROVISIONING_ROLE" : r.role_arn;
}

// "arn:aws:iot:REGION:ACCOUNT:KIND/TOPIC" for both provisioning topics.
std::string Topics(const ClaimSetupRequest& r, const std::string& kind) {
  const std::string arn = "\"arn:aws:iot:" + r.region + ":" + r.account_id + ":" + kind + "/";
  return arn + "$aws/certificates/create-from-csr/*\", " + arn + "$aws/provisioning-templates/" +
         r.template_name + "/provision/*\"";
}

}  // namespace

Status CheckClaimSetup(const ClaimSetupRequest& r) {
  bool region_ok = AllOf(r.region, 9, 25, "-") && std::isdigit(static_cast<unsigned char>(r.region.back())) &&
                   r.region.find('-') != std::string::npos;
  if (!region_ok) return base::UsageError("--region must be an AWS region such as eu-west-1");
  if (r.account_id.size() != 12 || !std::all_of(r.account_id.begin(), r.account_id.end(), [](unsigned char c) {
        return std::isdigit(c) != 0;
      }))
    return base::UsageError("--account-id must be the 12-digit AWS account id");
  if (!AllOf(r.template_name, 1, 36, "_-"))
    return base::UsageError("--template-name must be 1 to 36 of a-z A-Z 0-9 _ -");
  for (const std::string* policy : {&r.claim_policy_name, &r.device_policy_name})
    if (!AllOf(*policy, 1, 128, "_+=,.@-"))
      return base::UsageError("policy names are 1 to 128 of a-z A-Z 0-9 _ + = , . @ - ('" + *policy + "')");
  if (!r.role_arn.empty() && (r.role_arn.rfind("arn:aws:iam::", 0) != 0 || r.role_arn.find('"') != std::string::npos))
    return base::UsageError("--role-arn must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
  return {};
}

std::string ClaimPolicyJson(const ClaimSetupRequest& r) {
  return "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n"
         "    {\"Effect\": \"Allow\", \"Action\": \"iot:Connect\", \"Resource\": \"arn:aws:iot:" + r.region + ":" +
         r.account_id + ":client/*\"},\n"
         "    {\"Effect\": \"Allow\", \"Action\": [\"iot:Publish\", \"iot:Receive\"], \"Resource\": [" +
         Topics(r, "topic") + "]},\n"
         "    {\"Effect\": \"Allow\", \"Action\": \"iot:Subscribe\", \"Resource\": [" + Topics(r, "topicfilter") +
         "]}\n  ]\n}\n";
}

std::string ClaimRegistrationConfigJson(const ClaimSetupRequest& r) {
  const std::string body =
      R"({"Parameters":{"AWS::IoT::Certificate::Id":{"Type":"String"}},"Resources":{)"
      R"("certificate":{"Type":"AWS::IoT::Certificate","Properties":{)"
      R"("CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},)"
      R"("policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyName":")" + r.claim_policy_name + "\"}}}}";
  return "{\n  \"templateBody\": \"" + JsonEscape(body) + "\",\n  \"roleArn\": \"" + Role(r) + "\"\n}\n";
}

std::string FleetProvisioningTemplateJson(const ClaimSetupRequest& r) {
  return "{\n"
         "  \"Parameters\": {\"SerialNumber\": {\"Type\": \"String\"}, "
         "\"AWS::IoT::Certificate::Id\": {\"Type\": \"String\"}},\n"
         "  \"Resources\": {\n"
         "    \"thing\": {\"Type\": \"AWS::IoT::Thing\", \"Properties\": {\"ThingName\": {\"Ref\": \"SerialNumber\"}, "
         "\"AttributePayload\": {\"serialNumber\": {\"Ref\": \"SerialNumber\"}}}, "
         "\"OverrideSettings\": {\"AttributePayload\": \"MERGE\"}},\n"
         "    \"certificate\": {\"Type\": \"AWS::IoT::Certificate\", \"Properties\": "
         "{\"CertificateId\": {\"Ref\": \"AWS::IoT::Certificate::Id\"}, \"Status\": \"ACTIVE\"}},\n"
         "    \"policy\": {\"Type\": \"AWS::IoT::Policy\", \"Properties\": {\"PolicyName\": \"" + r.device_policy_name +
         "\"}}\n  }\n}\n";
}

std::string ClaimSetupCommands(const ClaimSetupRequest& r, const std::string& dir) {
  return "aws iot create-policy --policy-name " + r.claim_policy_name + " --policy-document file://" + dir +
         "/claim-policy.json\n"
         "aws iot register-ca-certificate --ca-certificate file://" + dir + "/claim-ca.pem \\\n"
         "    --verification-cert file://" + dir + "/claim-verification.pem --set-as-active \\\n"
         "    --allow-auto-registration --registration-config file://" + dir + "/claim-registration-config.json\n"
         "aws iot create-provisioning-template --template-name " + r.template_name + " --enabled \\\n"
         "    --provisioning-role-arn " + Role(r) + " --template-body file://" + dir +
         "/provisioning-template.json \\\n"
         "    --pre-provisioning-hook targetArn=<ARN of ops/aws/preprovision_hook.py>,payloadVersion=2020-04-01\n";
}

}  // namespace station::setup
