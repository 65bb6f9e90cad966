// The device registry, for security officers:
//   stationctl lot import --config FILE --profile P [--lot NAME] DEVICES.csv
//   stationctl lot close --config FILE --lot NAME
//   stationctl lot list --config FILE
//   stationctl codes mint --config FILE --profile P --count N --ttl 5m --out FILE
//   stationctl device approve-reissue --config FILE --profile P --device-id ID [--ttl 24h]
//
// Each change is a call to the running station's Officer service with
// officer.conf, and an officer's audit record that vouches for the rows it
// makes (audit/state.h): a row made beside the log would stop the station at
// its next start. `lot list` also reads a stopped station's database with
// station.conf.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "station/base/duration.h"
#include "station/base/files.h"
#include "station/base/text.h"
#include "station/cli/commands.h"
#include "station/cli/officer_client.h"
#include "station/config/config.h"
#include "station/registry/registry_admin.h"
#include "station/runtime/open_store.h"

namespace station::cli {
namespace {

constexpr int kLotIdsPerMessage = 500;  // ~35 KB: well inside the server's message limit

// Registry changes made beside the Officer service would be rows no record
// vouches for: the station would refuse to start on them.
Error OfficerServiceRequired() {
  return MakeError(Code::kFailedPrecondition, "OFFICER_SERVICE_REQUIRED",
                   "registry changes are officers' audit records: run this with --config officer.conf against the "
                   "running station (whose config names [officers])");
}

Result<int64_t> Ttl(const base::Args& args, const char* fallback, int64_t max_seconds) {
  ST_ASSIGN_OR_RETURN(int64_t seconds, base::ParseDuration(args.Get("ttl", fallback)));
  if (seconds < 60 || seconds > max_seconds)
    return base::UsageError("--ttl must be between 1m and " + base::FormatDuration(max_seconds));
  return seconds;
}

void PrintRecord(uint64_t seq) {
  if (seq != 0) std::printf("audit record %llu\n", static_cast<unsigned long long>(seq));
}

int LotImport(const base::Args& args, bool officer) {
  auto profile = args.Require("profile");
  if (!profile.ok()) return Fail(profile.error());
  if (args.positional().size() != 1) return Fail(base::UsageError("lot import needs exactly one CSV file"));
  const std::string& file = args.positional()[0];
  registry::Lot lot;
  lot.name = args.Get("lot", std::filesystem::path(file).stem().string());
  lot.profile = *profile;
  lot.source = std::filesystem::absolute(file).string();
  if (!officer) return Fail(OfficerServiceRequired());
  uint64_t seq = 0;
  {
    auto stub = ConnectOfficer(args);
    if (!stub.ok()) return Fail(stub.error());
    auto ids = registry::ReadLotCsv(file);
    if (!ids.ok()) return Fail(ids.error());
    lot.device_ids = std::move(*ids);
    auto context = OfficerContext();
    v1::ImportLotResponse reply;
    auto writer = (*stub)->ImportLot(context.get(), &reply);
    for (size_t i = 0; i < lot.device_ids.size(); i += kLotIdsPerMessage) {
      v1::ImportLotRequest chunk;
      if (i == 0) {
        chunk.set_lot(lot.name);
        chunk.set_profile(lot.profile);
        chunk.set_source(lot.source);
      }
      size_t end = std::min(lot.device_ids.size(), i + kLotIdsPerMessage);
      for (size_t j = i; j < end; ++j) chunk.add_device_ids(lot.device_ids[j]);
      if (!writer->Write(chunk)) break;  // the server answered early; Finish says why
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    if (!status.ok()) return Fail(FromStatus(status));
    seq = reply.audit_seq();
  }
  std::printf("lot '%s': %zu devices may now get a '%s' certificate (lot is open)\n", lot.name.c_str(),
              lot.device_ids.size(), lot.profile.c_str());
  PrintRecord(seq);
  return 0;
}

int LotClose(const base::Args& args, bool officer) {
  auto config_path = args.Require("config");
  auto name = args.Require("lot");
  if (!config_path.ok()) return Fail(config_path.error());
  if (!name.ok()) return Fail(name.error());
  if (!officer) return Fail(OfficerServiceRequired());
  uint64_t seq = 0;
  {
    auto stub = ConnectOfficer(args);
    if (!stub.ok()) return Fail(stub.error());
    v1::CloseLotRequest request;
    request.set_lot(*name);
    v1::RegistryChange reply;
    grpc::Status status = (*stub)->CloseLot(OfficerContext().get(), request, &reply);
    if (!status.ok()) return Fail(FromStatus(status));
    seq = reply.audit_seq();
  }
  std::printf("lot '%s' closed: its devices get no more certificates\n", name->c_str());
  PrintRecord(seq);
  return 0;
}

int LotList(const base::Args& args, bool officer) {
  auto config_path = args.Require("config");
  if (!config_path.ok()) return Fail(config_path.error());
  auto json = JsonWanted(args);
  if (!json.ok()) return Fail(json.error());
  std::vector<registry::LotSummary> lots;
  if (officer) {
    auto stub = ConnectOfficer(args);
    if (!stub.ok()) return Fail(stub.error());
    v1::ListLotsResponse reply;
    grpc::Status status = (*stub)->ListLots(OfficerContext().get(), v1::ListLotsRequest(), &reply);
    if (!status.ok()) return Fail(FromStatus(status));
    for (const v1::LotInfo& l : reply.lots())
      lots.push_back({l.lot(), l.profile(), l.state(), static_cast<int64_t>(l.devices()),
                      static_cast<int64_t>(l.issued())});
  } else {
    auto config = config::LoadStationConfig(*config_path);
    if (!config.ok()) return Fail(config.error());
    auto store = runtime::OpenStore(*config, {.read_write = false});
    if (!store.ok()) return Fail(store.error());
    auto read = (*store)->Lots();
    if (!read.ok()) return Fail(read.error());
    lots = std::move(*read);
  }
  if (*json) {
    std::vector<std::string> items;
    for (const auto& l : lots)
      items.push_back(JsonFields().Str("lot", l.name).Str("profile", l.profile).Str("state", l.state)
                          .Num("devices", l.devices).Num("issued", l.issued).str());
    std::printf("%s\n", JsonArray(items).c_str());
    return 0;
  }
  std::printf("%-24s %-24s %-7s %9s %9s\n", "LOT", "PROFILE", "STATE", "DEVICES", "ISSUED");
  for (const auto& l : lots)
    std::printf("%-24s %-24s %-7s %9lld %9lld\n", l.name.c_str(), l.profile.c_str(), l.state.c_str(),
                static_cast<long long>(l.devices), static_cast<long long>(l.issued));
  return 0;
}

int CodesMint(const base::Args& args, bool officer) {
  auto profile = args.Require("profile");
  if (!profile.ok()) return Fail(profile.error());
  auto count = args.Number("count", 0, 1, static_cast<long>(registry::kMaxCodesPerMint));
  if (!count.ok()) return Fail(count.error());
  auto ttl = Ttl(args, "5m", 30 * 86400);
  if (!ttl.ok()) return Fail(ttl.error());
  auto out = args.Require("out");
  if (!out.ok()) return Fail(out.error());
  if (std::filesystem::exists(*out)) return Fail(base::UsageError(*out + " exists; codes are never overwritten"));
  if (!officer) return Fail(OfficerServiceRequired());
  std::vector<registry::MintedCode> codes;
  uint64_t seq = 0;
  {
    auto stub = ConnectOfficer(args);
    if (!stub.ok()) return Fail(stub.error());
    v1::MintCodesRequest request;
    request.set_profile(*profile);
    request.set_count(static_cast<uint32_t>(*count));
    request.set_ttl_seconds(*ttl);
    v1::MintCodesResponse reply;
    grpc::Status status = (*stub)->MintCodes(OfficerContext().get(), request, &reply);
    if (!status.ok()) return Fail(FromStatus(status));
    for (const std::string& code : reply.codes()) codes.push_back({code, reply.expires_unix_ms()});
    seq = reply.audit_seq();
  }
  if (codes.empty()) return Fail(MakeError(Code::kInternal, "NO_CODES", "the station answered no codes"));
  std::string csv = "registration_code,profile,expires_utc\n";
  for (const auto& c : codes) csv += c.code + "," + *profile + "," + base::UtcText(c.expires_unix_ms) + "\n";
  // The codes are secrets until used: the file is for the line, no one else.
  if (Status st = base::WriteFile(*out, csv, 0600); !st.ok()) return Fail(st.error());
  std::printf("%zu registration codes for profile '%s', each good once until %s, written to %s (mode 0600);\n"
              "the station keeps only their SHA-256\n",
              codes.size(), profile->c_str(), base::UtcText(codes.front().expires_unix_ms).c_str(), out->c_str());
  PrintRecord(seq);
  return 0;
}

int ApproveReissue(const base::Args& args, bool officer) {
  if (!officer) return Fail(OfficerServiceRequired());
  return OfficerApproveReissue(args);
}

}  // namespace

int RegistryCommand(int argc, char** argv) {
  if (argc < 3) return Fail(base::UsageError(std::string(argv[1]) + " needs a subcommand"));
  std::string command = argv[1], sub = argv[2];
  auto args = base::Args::Parse(argc, argv, 3, {"config", "profile", "lot", "count", "ttl", "out", "device-id", "target", "format"});
  if (!args.ok()) return Fail(args.error());
  const bool officer = args->Get("config") && IsOfficerConfig(*args->Get("config"));
  if (command == "lot" && sub == "import") return LotImport(*args, officer);
  if (command == "lot" && sub == "close") return LotClose(*args, officer);
  if (command == "lot" && sub == "list") return LotList(*args, officer);
  if (command == "codes" && sub == "mint") return CodesMint(*args, officer);
  if (command == "device" && sub == "approve-reissue") return ApproveReissue(*args, officer);
  return Fail(base::UsageError("unknown command '" + command + " " + sub +
                               "' (lot import|close|list, codes mint, device approve-reissue)"));
}

}  // namespace station::cli
