// stationctl profile check FILE...       the checks the server makes at startup, offline
// stationctl profile list --config FILE  the profiles a station would load (station.conf, offline,
//                                        with the lines officers set), or runs (officer.conf)
// stationctl profile set-lines --config officer.conf ...   see officer_cmd.cc
#include <cstdio>
#include <filesystem>

#include "station/base/text.h"
#include "station/cli/commands.h"
#include "station/config/config.h"
#include "station/officer/profile_lines.h"
#include "station/policy/profile_file.h"
#include "station/runtime/open_store.h"
#include "station/runtime/station.h"

namespace station::cli {
namespace {

std::string Describe(const policy::Profile& p) {
  std::string lines;
  for (const auto& line : p.lines) lines += (lines.empty() ? "" : ",") + line;
  return p.name + ": " + p.description + " [authorization " + policy::AuthorizationName(p.authorization) +
         (p.one_per_device ? ", one per device" : "") + ", lines " + lines + "]";
}

int Check(const base::Args& args) {
  if (args.positional().empty()) return Fail(base::UsageError("profile check needs one or more profile files"));
  for (const auto& file : args.positional()) {
    auto profile = policy::LoadProfileFile(file);
    if (!profile.ok()) return Fail(profile.error());
    std::printf("ok  %s\n", Describe(*profile).c_str());
  }
  return 0;
}

int List(const base::Args& args) {
  auto config_path = args.Require("config");
  if (!config_path.ok()) return Fail(config_path.error());
  auto json = JsonWanted(args);
  if (!json.ok()) return Fail(json.error());
  auto config = config::LoadStationConfig(*config_path);
  if (!config.ok()) return Fail(config.error());
  auto profiles = runtime::LoadProfiles(*config);
  if (!profiles.ok()) return Fail(profiles.error());
  // Officers' changes of who may use a profile, once the station has a store.
  if (config->store.shared() || std::filesystem::exists(config->audit_db_path())) {
    auto store = runtime::OpenStore(*config, {.read_write = false});
    if (!store.ok()) return Fail(store.error());
    auto set_by_officers = officer::ReadProfileLines(**store);
    if (!set_by_officers.ok()) return Fail(set_by_officers.error());
    for (auto& p : *profiles)
      if (auto it = set_by_officers->find(p.name); it != set_by_officers->end()) p.lines = it->second;
  }
  if (*json) {
    std::vector<std::string> items;
    for (const auto& p : *profiles)
      items.push_back(JsonFields()
                          .Str("name", p.name)
                          .Str("description", p.description)
                          .Str("authorization", policy::AuthorizationName(p.authorization))
                          .Bool("one_per_device", p.one_per_device)
                          .Strs("lines", std::vector<std::string>(p.lines.begin(), p.lines.end()))
                          .Bool("default", p.name == config->issuance.pipeline.default_profile)
                          .Bool("aws_jitr", p.aws_jitr)
                          .Bool("aws_claim", p.aws_claim)
                          .str());
    std::printf("%s\n", JsonArray(items).c_str());
    return 0;
  }
  for (const auto& p : *profiles)
    std::printf("%s%s\n", Describe(p).c_str(), p.name == config->issuance.pipeline.default_profile ? " (default)" : "");
  return 0;
}

}  // namespace

int ProfileCommand(int argc, char** argv) {
  if (argc < 3) return Fail(base::UsageError("profile needs a subcommand: check, list or set-lines"));
  std::string sub = argv[2];
  auto args = base::Args::Parse(argc, argv, 3, {"config", "target", "profile", "lines", "format"});
  if (!args.ok()) return Fail(args.error());
  if (sub == "check") return Check(*args);
  const bool officer = args->Get("config") && IsOfficerConfig(*args->Get("config"));
  if (sub == "list") return officer ? OfficerProfileCommand(sub, *args) : List(*args);
  if (sub == "set-lines") {
    if (!officer)
      return Fail(base::UsageError("set-lines changes a running station under two-person control: "
                                   "--config officer.conf"));
    return OfficerProfileCommand(sub, *args);
  }
  return Fail(base::UsageError("unknown profile subcommand '" + sub + "' (check, list, set-lines)"));
}

}  // namespace station::cli
