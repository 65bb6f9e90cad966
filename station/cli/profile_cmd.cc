// stationctl profile check FILE...       the checks the server makes at startup, offline
// stationctl profile list --config FILE  the profiles a station would load
#include <cstdio>

#include "station/cli/commands.h"
#include "station/config/config.h"
#include "station/policy/profile_file.h"
#include "station/runtime/station.h"

namespace station::cli {
namespace {

std::string Describe(const policy::Profile& p) {
  std::string lines;
  for (const auto& line : p.lines) lines += (lines.empty() ? "" : ",") + line;
  return p.name + ": " + p.description + " [authorization " + policy::AuthorizationName(p.authorization) +
         (p.one_per_device ? ", one per device" : "") + ", lines " + lines + "]";
}

int Check(const common::Args& args) {
  if (args.positional().empty()) return Fail(common::UsageError("profile check needs one or more profile files"));
  for (const auto& file : args.positional()) {
    auto profile = policy::LoadProfileFile(file);
    if (!profile.ok()) return Fail(profile.error());
    std::printf("ok  %s\n", Describe(*profile).c_str());
  }
  return 0;
}

int List(const common::Args& args) {
  auto config_path = args.Require("config");
  if (!config_path.ok()) return Fail(config_path.error());
  auto config = config::LoadStationConfig(*config_path);
  if (!config.ok()) return Fail(config.error());
  auto profiles = runtime::LoadProfiles(*config);
  if (!profiles.ok()) return Fail(profiles.error());
  for (const auto& p : *profiles)
    std::printf("%s%s\n", Describe(p).c_str(), p.name == config->issuance.default_profile ? " (default)" : "");
  return 0;
}

}  // namespace

int ProfileCommand(int argc, char** argv) {
  if (argc < 3) return Fail(common::UsageError("profile needs a subcommand: check or list"));
  std::string sub = argv[2];
  auto args = common::Args::Parse(argc, argv, 3, {"config"});
  if (!args.ok()) return Fail(args.error());
  if (sub == "check") return Check(*args);
  if (sub == "list") return List(*args);
  return Fail(common::UsageError("unknown profile subcommand '" + sub + "' (check, list)"));
}

}  // namespace station::cli
