// What AWS IoT asks for when a CA is registered (AWS-IOT.md, "Registering the
// station's CA"): the CA certificate, and a verification certificate whose
// subject CN is the account's registration code, for a fresh key pair, signed
// by the CA key being registered, inside the token. Proof that whoever
// registers the CA holds its key.
#pragma once

#include <string>
#include <vector>

#include "hsm/key.h"

namespace station::setup {

struct CaRegistration {
  std::string ca_pem;            // the CA certificate alone
  std::string verification_pem;  // CN = registration code, issued by the CA
  std::string registration_config_json;  // a JITP template to fill in (optional for JITR)
};

// A JITP registration config whose template names only the parameters the
// device certificates' subject carries (`subject_attributes`: the attribute
// names every such subject has, e.g. {"CN"}): JITP fails for every device
// when a template names one the certificate lacks. The thing is named by
// the CN; serialNumber, O, OU, C, ST and dnQualifier become thing attributes.
Result<std::string> JitpRegistrationConfig(const std::vector<std::string>& subject_attributes);

// INVALID_ARGUMENT REGISTRATION_CODE_INVALID unless the code is 1 to 64
// letters and digits (`aws iot get-registration-code` gives 64 hex digits).
// The verification key pair is made in memory and forgotten: AWS checks only
// the certificate's signature and CN.
Result<CaRegistration> MakeCaRegistration(hsm::TokenKey& ca_key, X509* ca_cert, const std::string& registration_code,
                                          const std::vector<std::string>& subject_attributes = {"CN"});

// The files MakeCaRegistration's output goes to, and the command to run.
struct CaRegistrationFiles {
  std::string ca, verification, registration_config;
};
CaRegistrationFiles CaRegistrationPaths(const std::string& dir);
std::string RegisterCaCommand(const CaRegistrationFiles& files);

}  // namespace station::setup
