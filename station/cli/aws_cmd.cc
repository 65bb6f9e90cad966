// stationctl aws verification-cert: the material `aws iot
// register-ca-certificate` needs, signed in the token.
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

}  // namespace

int AwsCommand(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[2], "verification-cert") != 0)
    return Fail(base::UsageError("aws needs a subcommand: verification-cert"));
  std::set<std::string> flags = TokenFlags();
  flags.insert({"ca", "ca-cert", "registration-code", "out", "profile"});
  auto args = base::Args::Parse(argc, argv, 3, flags);
  if (!args.ok()) return Fail(args.error());
  Status st = VerificationCert(*args);
  return st.ok() ? 0 : Fail(st.error());
}

}  // namespace station::cli
