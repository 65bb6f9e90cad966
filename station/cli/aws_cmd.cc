// stationctl aws verification-cert: the material `aws iot
// register-ca-certificate` needs, signed in the token; stationctl aws
// claim-setup: the same for the claim CA, with what fleet provisioning by
// claim needs beside it (setup/aws_claim.h).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "station/base/files.h"
#include "station/cli/commands.h"
#include "station/cli/token_args.h"
#include "station/issuance/certificate_authority.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/runtime/station.h"
#include "station/setup/aws_ca_registration.h"
#include "station/setup/aws_claim.h"
#include "station/setup/ca_init.h"

namespace station::cli {
namespace {

// The certificate of the CA key: --ca-cert, else whichever certificate the
// station config uses ([ca] or a profile's CA) holds that key.
Result<X509Ptr> CaCertificateFor(const base::Args& args, hsm::TokenKey& key) {
  std::vector<std::string> candidates;
  if (auto file = args.Get("ca-cert")) {
    candidates.push_back(*file);
  } else if (auto path = args.Get("config")) {
    ST_ASSIGN_OR_RETURN(auto config, config::LoadStationConfig(*path));
    ST_ASSIGN_OR_RETURN(candidates, runtime::CaCertificateFiles(config));
  } else {
    return base::UsageError("name the CA certificate with --ca-cert FILE (or give --config station.conf)");
  }
  for (const auto& file : candidates) {
    ST_ASSIGN_OR_RETURN(auto certs, pki::ReadCertsPem(file));
    if (issuance::CheckCertMatchesKey(certs.front().get(), key.evp()).ok()) return std::move(certs.front());
  }
  return MakeError(Code::kNotFound, "CA_CERT_NOT_FOUND",
                   "no CA certificate for key '" + key.label() + "' in " +
                       (args.Has("ca-cert") ? *args.Get("ca-cert") : "the station's config") +
                       (args.Has("ca-cert") ? "" : "; name it with --ca-cert FILE"));
}

// The subject attributes every device certificate of the JITR profiles (or of
// --profile) carries, which a JITP template may name; {"CN"} without a config.
Result<std::vector<std::string>> DeviceSubjectAttributes(const base::Args& args) {
  auto path = args.Get("config");
  if (!path) {
    if (args.Has("profile")) return base::UsageError("--profile needs --config station.conf");
    return std::vector<std::string>{"CN"};
  }
  ST_ASSIGN_OR_RETURN(auto config, config::LoadStationConfig(*path));
  ST_ASSIGN_OR_RETURN(auto profiles, runtime::LoadProfiles(config));
  std::optional<std::set<std::string>> common;
  for (const auto& profile : profiles) {
    if (args.Has("profile") ? profile.name != *args.Get("profile") : !profile.aws_jitr) continue;
    std::set<std::string> always;
    for (const auto& field : profile.subject)
      if (!field.optional) always.insert(field.attribute);
    if (common) {
      std::set<std::string> both;
      for (const auto& a : always)
        if (common->count(a)) both.insert(a);
      always = both;
    }
    common = always;
  }
  if (!common && args.Has("profile"))
    return MakeError(Code::kNotFound, "PROFILE_NOT_FOUND", "no profile '" + *args.Get("profile") + "' in " + *path);
  if (!common) return std::vector<std::string>{"CN"};
  return std::vector<std::string>(common->begin(), common->end());
}

Status VerificationCert(const base::Args& args) {
  ST_ASSIGN_OR_RETURN(std::string label, args.Require("ca"));
  ST_ASSIGN_OR_RETURN(std::string code, args.Require("registration-code"));
  ST_ASSIGN_OR_RETURN(std::string dir, args.Require("out"));
  ST_ASSIGN_OR_RETURN(auto token, OpenTokenFromArgs(args));
  ST_ASSIGN_OR_RETURN(auto ca_key, setup::OpenCaKey(token, label));
  ST_ASSIGN_OR_RETURN(auto ca_cert, CaCertificateFor(args, *ca_key.key));
  ST_ASSIGN_OR_RETURN(auto subject, DeviceSubjectAttributes(args));
  ST_ASSIGN_OR_RETURN(auto made, setup::MakeCaRegistration(*ca_key.key, ca_cert.get(), code, subject));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return MakeError(Code::kInvalidArgument, "OUT_DIR_INVALID", "cannot create " + dir + ": " + std::strerror(errno));
  auto files = setup::CaRegistrationPaths(dir);
  ST_RETURN_IF_ERROR(base::WriteFile(files.ca, made.ca_pem, 0644));
  ST_RETURN_IF_ERROR(base::WriteFile(files.verification, made.verification_pem, 0644));
  ST_RETURN_IF_ERROR(base::WriteFile(files.registration_config, made.registration_config_json, 0644));
  std::printf("CA '%s' (key '%s') signed a verification certificate for registration code %s\n"
              "  %s\n  %s\n  %s (a JITP template; not needed with the JITR function in ops/aws)\n"
              "register the CA with AWS IoT (CA subjects must be unique in the account):\n  %s\n",
              pki::NameText(X509_get_subject_name(ca_cert.get())).c_str(), label.c_str(), code.c_str(),
              files.ca.c_str(), files.verification.c_str(), files.registration_config.c_str(),
              setup::RegisterCaCommand(files).c_str());
  return {};
}

// The claim profile (--profile, else the one marked [aws] claim = true).
Result<policy::Profile> ClaimProfile(const config::StationConfig& config, const base::Args& args) {
  ST_ASSIGN_OR_RETURN(auto profiles, runtime::LoadProfiles(config));
  std::vector<policy::Profile> claims;
  for (auto& profile : profiles)
    if (args.Has("profile") ? profile.name == *args.Get("profile") : profile.aws_claim) claims.push_back(profile);
  if (claims.size() != 1)
    return MakeError(Code::kFailedPrecondition, "CLAIM_PROFILE_NOT_FOUND",
                     claims.empty() ? "no claim profile ([aws] claim = true) in " + config.path
                                    : "more than one claim profile: name one with --profile");
  if (!claims.front().aws_claim)
    return MakeError(Code::kFailedPrecondition, "CLAIM_PROFILE_NOT_FOUND",
                     "profile '" + claims.front().name + "' is not a claim profile ([aws] claim = true)");
  return std::move(claims.front());
}

// Everything the cloud team runs for fleet provisioning by claim.
Status ClaimSetup(const base::Args& args) {
  ST_ASSIGN_OR_RETURN(std::string path, args.Require("config"));
  ST_ASSIGN_OR_RETURN(std::string code, args.Require("registration-code"));
  ST_ASSIGN_OR_RETURN(std::string dir, args.Require("out"));
  setup::ClaimSetupRequest request;
  ST_ASSIGN_OR_RETURN(request.region, args.Require("region"));
  ST_ASSIGN_OR_RETURN(request.account_id, args.Require("account-id"));
  ST_ASSIGN_OR_RETURN(request.template_name, args.Require("template-name"));
  ST_ASSIGN_OR_RETURN(request.device_policy_name, args.Require("device-policy-name"));
  request.claim_policy_name = args.Get("claim-policy-name", request.template_name + "-claim");
  request.role_arn = args.Get("role-arn", "");
  ST_RETURN_IF_ERROR(setup::CheckClaimSetup(request));
  ST_ASSIGN_OR_RETURN(auto config, config::LoadStationConfig(path));
  ST_ASSIGN_OR_RETURN(policy::Profile claim, ClaimProfile(config, args));
  ST_ASSIGN_OR_RETURN(auto token, OpenTokenFromArgs(args));
  ST_ASSIGN_OR_RETURN(auto uri, hsm::ParsePkcs11Uri(claim.ca_key_uri));
  ST_ASSIGN_OR_RETURN(auto key, hsm::TokenKey::Find(token, uri));
  ST_ASSIGN_OR_RETURN(auto chain, pki::ReadCertsPem(claim.ca_certificate));
  ST_RETURN_IF_ERROR(issuance::CheckCertMatchesKey(chain.front().get(), key->evp()));
  ST_ASSIGN_OR_RETURN(auto made, setup::MakeCaRegistration(*key, chain.front().get(), code));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return MakeError(Code::kInvalidArgument, "OUT_DIR_INVALID", "cannot create " + dir + ": " + std::strerror(errno));
  ST_RETURN_IF_ERROR(base::WriteFile(dir + "/claim-ca.pem", made.ca_pem, 0644));
  ST_RETURN_IF_ERROR(base::WriteFile(dir + "/claim-verification.pem", made.verification_pem, 0644));
  ST_RETURN_IF_ERROR(
      base::WriteFile(dir + "/claim-registration-config.json", setup::ClaimRegistrationConfigJson(request), 0644));
  ST_RETURN_IF_ERROR(base::WriteFile(dir + "/claim-policy.json", setup::ClaimPolicyJson(request), 0644));
  ST_RETURN_IF_ERROR(
      base::WriteFile(dir + "/provisioning-template.json", setup::FleetProvisioningTemplateJson(request), 0644));
  std::printf("claim CA of profile '%s': %s (key '%s')\n"
              "the pre-provisioning hook's allow-list: stationctl audit export --config %s "
              "--format aws-provisioning-allowlist --out provisioning.jsonl\n"
              "set it up in AWS IoT:\n%s",
              claim.name.c_str(), pki::NameText(X509_get_subject_name(chain.front().get())).c_str(),
              key->label().c_str(), path.c_str(), setup::ClaimSetupCommands(request, dir).c_str());
  return {};
}

}  // namespace

int AwsCommand(int argc, char** argv) {
  const std::string sub = argc < 3 ? "" : argv[2];
  if (sub != "verification-cert" && sub != "claim-setup")
    return Fail(base::UsageError("aws needs a subcommand: verification-cert or claim-setup"));
  std::set<std::string> flags = TokenFlags();
  flags.insert({"ca", "ca-cert", "registration-code", "out", "profile", "region", "account-id", "template-name",
                "device-policy-name", "claim-policy-name", "role-arn"});
  auto args = base::Args::Parse(argc, argv, 3, flags);
  if (!args.ok()) return Fail(args.error());
  Status st = sub == "claim-setup" ? ClaimSetup(*args) : VerificationCert(*args);
  return st.ok() ? 0 : Fail(st.error());
}

}  // namespace station::cli
