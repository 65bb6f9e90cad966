// What the cloud team needs for AWS IoT fleet provisioning by claim
// (`stationctl aws claim-setup`, docs/aws.md): the claim CA is registered with
// auto-registration and a JITP template that only activates a claim and
// attaches the claim policy (no thing), so a claim certificate is never a
// device; the claim policy allows the provisioning topics and nothing else;
// the fleet provisioning template makes the device's thing, and AWS calls the
// pre-provisioning hook (ops/aws/preprovision_hook.py) before it does.
#pragma once

#include <string>

#include "station/base/error.h"

namespace station::setup {

struct ClaimSetupRequest {
  std::string region;              // e.g. "eu-west-1"
  std::string account_id;          // 12 digits
  std::string template_name;       // the fleet provisioning template's name
  std::string claim_policy_name;   // the policy every claim certificate gets
  std::string device_policy_name;  // the policy the provisioned device gets
  std::string role_arn;            // the role AWS IoT provisions with; "" for a placeholder
};

// USAGE unless every name is one AWS IoT takes.
Status CheckClaimSetup(const ClaimSetupRequest& request);

// The IoT policy of claim certificates: connect, and publish, subscribe and
// receive on $aws/certificates/create-from-csr/* and
// $aws/provisioning-templates/<template>/provision/* only.
std::string ClaimPolicyJson(const ClaimSetupRequest& request);

// register-ca-certificate's --registration-config for the claim CA: a claim
// presented for the first time is made ACTIVE with the claim policy; no thing.
std::string ClaimRegistrationConfigJson(const ClaimSetupRequest& request);

// The fleet provisioning template: the device's RegisterThing parameter
// SerialNumber names its thing; its new certificate is ACTIVE with the device
// policy.
std::string FleetProvisioningTemplateJson(const ClaimSetupRequest& request);

// The commands that set it up in AWS, the files being in `dir`.
std::string ClaimSetupCommands(const ClaimSetupRequest& request, const std::string& dir);

}  // namespace station::setup
