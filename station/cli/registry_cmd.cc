// The device registry, for security officers:
//   stationctl lot import --config FILE --profile P [--lot NAME] DEVICES.csv
//   stationctl lot close --config FILE --lot NAME
//   stationctl lot list --config FILE
//   stationctl codes mint --config FILE --profile P --count N --ttl 5m --out FILE
//   stationctl device approve-reissue --config FILE --profile P --device-id ID [--ttl 24h]
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "station/cli/commands.h"
#include "station/common/duration.h"
#include "station/config/config.h"
#include "station/pki/files.h"
#include "station/registry/registry_admin.h"
#include "station/runtime/station.h"

namespace station::cli {
namespace {

struct Target {
  config::StationConfig config;
  policy::Profile profile;
};

// The station's config and one of its profiles, which must use `authorization`
// (or make one-per-device refusals, for approvals).
Result<Target> LoadTarget(const common::Args& args, std::optional<policy::Authorization> authorization) {
  ST_ASSIGN_OR_RETURN(std::string config_path, args.Require("config"));
  ST_ASSIGN_OR_RETURN(std::string profile_name, args.Require("profile"));
  Target t;
  ST_ASSIGN_OR_RETURN(t.config, config::LoadStationConfig(config_path));
  ST_ASSIGN_OR_RETURN(auto profiles, runtime::LoadProfiles(t.config));
  for (auto& p : profiles)
    if (p.name == profile_name) t.profile = std::move(p);
  if (t.profile.name != profile_name)
    return MakeError(Code::kNotFound, "UNKNOWN_PROFILE", "the station has no profile '" + profile_name + "'");
  if (authorization && t.profile.authorization != *authorization)
    return MakeError(Code::kFailedPrecondition, "PROFILE_MISMATCH",
                     "profile '" + profile_name + "' has authorization = \"" +
                         policy::AuthorizationName(t.profile.authorization) + "\", not \"" +
                         policy::AuthorizationName(*authorization) + "\"; this would have no effect");
  return t;
}

std::string UtcText(int64_t unix_ms) {
  time_t t = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<int64_t> Ttl(const common::Args& args, const char* fallback, int64_t max_seconds) {
  ST_ASSIGN_OR_RETURN(int64_t seconds, common::ParseDuration(args.Get("ttl", fallback)));
  if (seconds < 60 || seconds > max_seconds)
    return common::UsageError("--ttl must be between 1m and " + common::FormatDuration(max_seconds));
  return seconds;
}

int LotImport(const common::Args& args) {
  auto target = LoadTarget(args, policy::Authorization::kLot);
  if (!target.ok()) return Fail(target.error());
  if (args.positional().size() != 1) return Fail(common::UsageError("lot import needs exactly one CSV file"));
  const std::string& file = args.positional()[0];
  auto ids = registry::ReadLotCsv(file);
  if (!ids.ok()) return Fail(ids.error());
  registry::Lot lot;
  lot.name = args.Get("lot", std::filesystem::path(file).stem().string());
  lot.profile = target->profile.name;
  lot.device_ids = std::move(*ids);
  lot.source = std::filesystem::absolute(file).string();
  lot.imported_by = registry::CurrentUser();
  if (Status st = registry::ImportLot(target->config.audit_db_path(), lot); !st.ok()) return Fail(st.error());
  std::printf("lot '%s': %zu devices may now get a '%s' certificate (lot is open)\n", lot.name.c_str(),
              lot.device_ids.size(), lot.profile.c_str());
  return 0;
}

int LotClose(const common::Args& args) {
  auto config_path = args.Require("config");
  auto name = args.Require("lot");
  if (!config_path.ok()) return Fail(config_path.error());
  if (!name.ok()) return Fail(name.error());
  auto config = config::LoadStationConfig(*config_path);
  if (!config.ok()) return Fail(config.error());
  if (Status st = registry::CloseLot(config->audit_db_path(), *name); !st.ok()) return Fail(st.error());
  std::printf("lot '%s' closed: its devices get no more certificates\n", name->c_str());
  return 0;
}

int LotList(const common::Args& args) {
  auto config_path = args.Require("config");
  if (!config_path.ok()) return Fail(config_path.error());
  auto config = config::LoadStationConfig(*config_path);
  if (!config.ok()) return Fail(config.error());
  auto lots = registry::ListLots(config->audit_db_path());
  if (!lots.ok()) return Fail(lots.error());
  std::printf("%-24s %-24s %-7s %9s %9s\n", "LOT", "PROFILE", "STATE", "DEVICES", "ISSUED");
  for (const auto& l : *lots)
    std::printf("%-24s %-24s %-7s %9lld %9lld\n", l.name.c_str(), l.profile.c_str(), l.state.c_str(),
                static_cast<long long>(l.devices), static_cast<long long>(l.issued));
  return 0;
}

int CodesMint(const common::Args& args) {
  auto target = LoadTarget(args, policy::Authorization::kRegistrationCode);
  if (!target.ok()) return Fail(target.error());
  auto count = args.Number("count", 0, 1, static_cast<long>(registry::kMaxCodesPerMint));
  if (!count.ok()) return Fail(count.error());
  auto ttl = Ttl(args, "5m", 30 * 86400);
  if (!ttl.ok()) return Fail(ttl.error());
  auto out = args.Require("out");
  if (!out.ok()) return Fail(out.error());
  if (std::filesystem::exists(*out)) return Fail(common::UsageError(*out + " exists; codes are never overwritten"));
  auto codes = registry::MintCodes(target->config.audit_db_path(), target->profile.name, static_cast<size_t>(*count), *ttl);
  if (!codes.ok()) return Fail(codes.error());
  std::string csv = "registration_code,profile,expires_utc\n";
  for (const auto& c : *codes) csv += c.code + "," + target->profile.name + "," + UtcText(c.expires_unix_ms) + "\n";
  // The codes are secrets until used: the file is for the line, no one else.
  if (Status st = pki::WriteFile(*out, csv, 0600); !st.ok()) return Fail(st.error());
  std::printf("%zu registration codes for profile '%s', each good once until %s, written to %s (mode 0600);\n"
              "the station keeps only their SHA-256\n",
              codes->size(), target->profile.name.c_str(), UtcText(codes->front().expires_unix_ms).c_str(), out->c_str());
  return 0;
}

int ApproveReissue(const common::Args& args) {
  if (auto path = args.Get("config"); path && IsOfficerConfig(*path)) return OfficerApproveReissue(args);
  auto target = LoadTarget(args, std::nullopt);
  if (!target.ok()) return Fail(target.error());
  // With officers configured, a reissue needs k of them: only the Officer
  // service can tell who they are (this command sees a Unix user).
  if (!target->config.officers.members.empty())
    return Fail(MakeError(Code::kFailedPrecondition, "APPROVALS_REQUIRED",
                          "this station has [officers]: approve through the Officer service, "
                          "stationctl device approve-reissue --config officer.conf --profile P --device-id ID"));
  auto device = args.Require("device-id");
  if (!device.ok()) return Fail(device.error());
  if (!target->profile.one_per_device)
    return Fail(MakeError(Code::kFailedPrecondition, "PROFILE_MISMATCH",
                          "profile '" + target->profile.name + "' is not one-per-device; no approval is needed"));
  auto ttl = Ttl(args, "24h", 30 * 86400);
  if (!ttl.ok()) return Fail(ttl.error());
  std::string officer = registry::CurrentUser();
  if (Status st = registry::ApproveReissue(target->config.audit_db_path(), target->profile.name, *device, officer, *ttl);
      !st.ok())
    return Fail(st.error());
  std::printf("approved one more '%s' certificate for device '%s' (by %s, for %s)\n", target->profile.name.c_str(),
              device->c_str(), officer.c_str(), common::FormatDuration(*ttl).c_str());
  return 0;
}

}  // namespace

int RegistryCommand(int argc, char** argv) {
  if (argc < 3) return Fail(common::UsageError(std::string(argv[1]) + " needs a subcommand"));
  std::string command = argv[1], sub = argv[2];
  auto args = common::Args::Parse(argc, argv, 3, {"config", "profile", "lot", "count", "ttl", "out", "device-id", "target"});
  if (!args.ok()) return Fail(args.error());
  if (command == "lot" && sub == "import") return LotImport(*args);
  if (command == "lot" && sub == "close") return LotClose(*args);
  if (command == "lot" && sub == "list") return LotList(*args);
  if (command == "codes" && sub == "mint") return CodesMint(*args);
  if (command == "device" && sub == "approve-reissue") return ApproveReissue(*args);
  return Fail(common::UsageError("unknown command '" + command + " " + sub +
                                 "' (lot import|close|list, codes mint, device approve-reissue)"));
}

}  // namespace station::cli
