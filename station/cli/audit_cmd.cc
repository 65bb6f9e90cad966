// stationctl audit: init-key, verify, prove, check-proof, export.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "station/audit/proof.h"
#include "station/audit/verify.h"
#include "station/base/files.h"
#include "station/base/text.h"
#include "station/cli/commands.h"
#include "station/config/config.h"
#include "station/export/aws_bulk.h"
#include "station/export/export.h"
#include "station/runtime/audit_signer.h"
#include "station/runtime/open_store.h"
#include "station/runtime/station.h"
#include "station/setup/audit_key.h"

namespace station::cli {
namespace {

using ull = unsigned long long;

Result<config::StationConfig> LoadConfig(const base::Args& args) {
  ST_ASSIGN_OR_RETURN(std::string path, args.Require("config"));
  return config::LoadStationConfig(path);
}

// The key checkpoints verify with: [audit] public_key and origin, or --public-key.
Result<audit::NoteKey> VerifyKey(const config::StationConfig& config, const base::Args& args) {
  if (auto file = args.Get("public-key"))
    return audit::NoteKey::FromPemFile(args.Get("origin", config.audit.origin), *file);
  return runtime::PublishedAuditKey(config.audit);
}

int InitKey(const base::Args& args) {
  auto config = LoadConfig(args);
  if (!config.ok()) return Fail(config.error());
  if (!config->audit.key_uri.empty())
    return Fail(MakeError(Code::kAlreadyExists, "AUDIT_KEY_CONFIGURED",
                          config->path + " already names an audit key (" + config->audit.key_uri +
                              "); a log keeps its key for life"));
  setup::AuditKeyRequest request;
  auto algo = hsm::ParseKeyAlgorithm(args.Get("algo", "ec-p256"));
  if (!algo.ok()) return Fail(algo.error());
  request.algorithm = *algo;
  request.label = args.Get("label", "station-audit");
  request.origin = args.Get("origin", setup::DefaultAuditOrigin());
  std::string dir = std::filesystem::path(config->path).parent_path().string();
  request.public_key_path = args.Get("public-key", (dir.empty() ? "." : dir) + "/audit-key.pem");
  auto token = runtime::OpenToken(config->token, 2);
  if (!token.ok()) return Fail(token.error());
  auto made = setup::InitAuditKey(*token, request);
  if (!made.ok()) return Fail(made.error());
  std::printf("audit key generated in token '%s' (%s, CKA_EXTRACTABLE false)\n"
              "public key: %s\nverifier key: %s\n\nadd to %s:\n\n[audit]\nkey_uri = \"%s\"\npublic_key = \"%s\"\n"
              "origin = \"%s\"\n",
              (*token)->label().c_str(), hsm::KeyAlgorithmName(request.algorithm), request.public_key_path.c_str(),
              made->note_key.VerifierKey().c_str(), config->path.c_str(), made->key_uri.c_str(),
              request.public_key_path.c_str(), request.origin.c_str());
  return 0;
}

// The log --station names (this station's without it), to read. Another
// station's checkpoints verify with its own key, which the reader must name.
Result<std::shared_ptr<store::Store>> OpenLogOf(const config::StationConfig& config, const base::Args& args) {
  const std::string station = args.Get("station", "");
  if (!station.empty() && station != config.store.station_id && !args.Get("public-key"))
    return base::UsageError("station " + station + "'s checkpoints are signed with its own audit key: name it with "
                            "--public-key FILE --origin ORIGIN (its station.conf's [audit] public_key and origin)");
  return runtime::OpenStore(config, {.read_write = false, .station_id = station});
}

// The verdict on one log as one JSON object (--format json), after the fields
// `out` holds already (--all's station).
std::string VerdictJson(const audit::VerifyReport& report, bool key, const std::string& where, JsonFields out = {}) {
  out.Str("log", where).Bool("intact", !report.problem && !report.state_problem);
  out.Num("records", static_cast<int64_t>(report.records)).Num("checkpoints", static_cast<int64_t>(report.checkpoints));
  out.Bool("checkpoints_checked", key);
  if (report.latest)
    out.Raw("latest", JsonFields()
                          .Num("size", static_cast<int64_t>(report.latest->size))
                          .Str("root", audit::HashHex(report.latest->root))
                          .str());
  if (report.problem)
    out.Raw("problem", JsonFields()
                           .Str("kind", audit::TamperingName(report.problem->kind))
                           .Num("seq", static_cast<int64_t>(report.problem->seq))
                           .Str("what", report.problem->what)
                           .str());
  if (report.state_problem)
    out.Raw("registry_problem", JsonFields()
                                    .Str("table", report.state_problem->table)
                                    .Str("group", report.state_problem->group)
                                    .Str("what", report.state_problem->what)
                                    .str());
  return out.str();
}

// Prints the verdict on one log for people; whether it is intact.
bool PrintVerdict(const audit::VerifyReport& report, bool key, const std::string& where) {
  if (report.problem) {
    const audit::LogProblem& p = *report.problem;
    std::printf("audit log BROKEN (%s) at record %llu: %s\n"
                "%llu records and %llu checkpoints verified before it\n%s\n",
                audit::TamperingName(p.kind), static_cast<ull>(p.seq), p.what.c_str(),
                static_cast<ull>(report.records), static_cast<ull>(report.checkpoints), where.c_str());
    return false;
  }
  if (report.state_problem) {
    const audit::StateProblem& p = *report.state_problem;
    std::printf("registry BROKEN: %s '%s': %s\nthe log itself verified (%llu records, %llu checkpoints)\n%s\n",
                p.table.c_str(), p.group.c_str(), p.what.c_str(), static_cast<ull>(report.records),
                static_cast<ull>(report.checkpoints), where.c_str());
    return false;
  }
  std::printf("audit log intact: %llu records, hash chain and Merkle tree verified, %llu signed checkpoints verified",
              static_cast<ull>(report.records), static_cast<ull>(report.checkpoints));
  if (report.latest)
    std::printf(" (latest: %llu records, root %s)", static_cast<ull>(report.latest->size),
                audit::HashHex(report.latest->root).c_str());
  std::printf("; every CA set, profile line set, approval, lot and registration code is vouched for by its record");
  std::printf("\n%s\n", where.c_str());
  if (!key) std::printf("warning: no audit public key for this log; its checkpoints were not checked\n");
  return true;
}

// Verifies one log and prints its verdict: whether it is intact, or the
// error that kept it from being read.
Result<bool> VerifyOne(store::Store& store, const audit::NoteKey* key, const std::string& where, bool json) {
  ST_ASSIGN_OR_RETURN(audit::VerifyReport report, audit::VerifyLog(store, key));
  if (!json) return PrintVerdict(report, key != nullptr, where);
  std::printf("%s\n", VerdictJson(report, key != nullptr, where).c_str());
  return !report.problem && !report.state_problem;
}

// The log of `station` ("": this station's), for people.
std::string LogName(const config::StationConfig& config, const std::string& station) {
  if (station.empty() || station == config.store.station_id) return config.store_name();
  return "station " + station + " of " + config.store.url;
}

// --station ID: another station's log of the shared store. Its checkpoints
// verify with its own key, which the auditor pins: --public-key and --origin.
int Verify(const base::Args& args) {
  auto config = LoadConfig(args);
  if (!config.ok()) return Fail(config.error());
  const std::string station = args.Get("station", "");
  const bool all = args.Has("all");
  if (all && !station.empty()) return Fail(base::UsageError("--station ID or --all, not both"));
  auto json = JsonWanted(args);
  if (!json.ok()) return Fail(json.error());
  const bool own = station.empty() || station == config->store.station_id;
  auto key = own || args.Get("public-key") ? VerifyKey(*config, args)
                                           : Result<audit::NoteKey>(MakeError(Code::kFailedPrecondition,
                                                                              "AUDIT_KEY_NOT_CONFIGURED", "none"));
  if (!key.ok() && key.error().reason != "AUDIT_KEY_NOT_CONFIGURED") return Fail(key.error());
  if (!all) {
    auto store = runtime::OpenStore(*config, {.read_write = false, .station_id = station});
    if (!store.ok()) return Fail(store.error());
    auto intact = VerifyOne(**store, key.ok() ? &*key : nullptr, LogName(*config, station), *json);
    if (!intact.ok()) return Fail(intact.error());
    return *intact ? 0 : 1;
  }
  // Every station's log, one verdict each. This station's checkpoints verify
  // with its configured key; another's with the key the auditor pinned for it,
  // --keys DIR/<station id>.pem (the name it signs under is its log's own).
  auto listing = runtime::OpenStore(*config, {.read_write = false});
  if (!listing.ok()) return Fail(listing.error());
  auto stations = (*listing)->Stations();
  if (!stations.ok()) return Fail(stations.error());
  const std::string keys_dir = args.Get("keys", "");
  size_t broken = 0, unchecked = 0;
  std::vector<std::string> verdicts;  // --format json: one object per station
  for (const std::string& id : *stations) {
    const bool mine = id == config->store.station_id;
    JsonFields station_json;
    station_json.Str("station", id).Bool("this_station", mine);
    if (!*json) std::printf("== station %s%s\n", id.c_str(), mine ? " (this station)" : "");
    auto store = mine ? listing : runtime::OpenStore(*config, {.read_write = false, .station_id = id});
    if (!store.ok()) return Fail(store.error());
    Result<audit::NoteKey> station_key = key;
    if (!mine) {
      const std::string pem = keys_dir + "/" + id + ".pem";
      auto latest = (*store)->Checkpoints(true);
      if (keys_dir.empty() || !std::filesystem::exists(pem) || !latest.ok() || latest->empty()) {
        const std::string why = "no key for it (--keys DIR with " + id + ".pem)";
        if (*json)
          verdicts.push_back(station_json.Bool("checked", false).Str("why", why).str());
        else
          std::printf("not checked: %s\n", why.c_str());
        ++unchecked;
        continue;
      }
      const std::string& note = latest->front().note;
      station_key = audit::NoteKey::FromPemFile(note.substr(0, note.find('\n')), pem);
      if (!station_key.ok()) return Fail(station_key.error());
    }
    const audit::NoteKey* checked_with = station_key.ok() ? &*station_key : nullptr;
    auto report = audit::VerifyLog(**store, checked_with);
    if (!report.ok()) {
      if (*json)
        verdicts.push_back(station_json.Bool("checked", true).Str("unreadable", report.error().ToString()).str());
      else
        std::printf("audit log UNREADABLE: %s\n", report.error().ToString().c_str());
      ++broken;
      continue;
    }
    const bool intact = !report->problem && !report->state_problem;
    if (*json)
      verdicts.push_back(VerdictJson(*report, checked_with != nullptr, LogName(*config, id),
                                     station_json.Bool("checked", true)));
    else
      PrintVerdict(*report, checked_with != nullptr, LogName(*config, id));
    if (!intact) ++broken;
  }
  const size_t intact = stations->size() - broken - unchecked;
  if (*json)
    std::printf("%s\n", JsonFields()
                            .Raw("stations", JsonArray(verdicts))
                            .Num("intact", static_cast<int64_t>(intact))
                            .Num("broken", static_cast<int64_t>(broken))
                            .Num("not_checked", static_cast<int64_t>(unchecked))
                            .str()
                            .c_str());
  else
    std::printf("%zu stations: %zu intact, %zu broken, %zu not checked\n", stations->size(), intact, broken,
                unchecked);
  return broken == 0 && unchecked == 0 ? 0 : 1;
}

int Prove(const base::Args& args) {
  auto config = LoadConfig(args);
  if (!config.ok()) return Fail(config.error());
  auto serial = args.Require("serial");
  if (!serial.ok()) return Fail(serial.error());
  auto key = VerifyKey(*config, args);
  if (!key.ok()) return Fail(key.error());
  auto store = OpenLogOf(*config, args);
  if (!store.ok()) return Fail(store.error());
  auto proof = audit::ProveInclusion(**store, *key, *serial);
  if (!proof.ok()) return Fail(proof.error());
  if (auto out = args.Get("out")) {
    Status st = base::WriteFile(*out, *proof, 0644);
    if (!st.ok()) return Fail(st.error());
    std::fprintf(stderr, "inclusion proof written to %s\n", out->c_str());
  } else {
    std::fputs(proof->c_str(), stdout);
  }
  return 0;
}

int CheckProof(const base::Args& args) {
  if (args.positional().size() != 1) return Fail(base::UsageError("check-proof needs one proof file"));
  auto key_file = args.Require("public-key");
  if (!key_file.ok()) return Fail(key_file.error());
  auto text = base::ReadFile(args.positional()[0], 256 * 1024);
  if (!text.ok()) return Fail(text.error());
  // The origin is the checkpoint's first line; the signature check binds it
  // to the key. --origin pins it.
  std::string origin = args.Get("origin", "");
  if (origin.empty()) {
    size_t at = text->find("\ncheckpoint\n");
    if (at != std::string::npos) origin = text->substr(at + 12, text->find('\n', at + 12) - (at + 12));
  }
  auto key = audit::NoteKey::FromPemFile(origin, *key_file);
  if (!key.ok()) return Fail(key.error());
  auto checked = audit::CheckInclusionProof(*text, *key);
  if (!checked.ok()) return Fail(checked.error());
  const audit::AuditRecord& r = checked->record;
  if (auto serial = args.Get("serial"); serial && *serial != r.serial_hex)
    return Fail(MakeError(Code::kDataLoss, "PROOF_INVALID",
                          "the proof is for serial " + r.serial_hex + ", not " + *serial));
  std::printf("proof OK: serial %s (certificate %s, subject %s, thing '%s') is record %llu of %llu in the log '%s', "
              "whose checkpoint is signed by %s\n",
              r.serial_hex.c_str(), r.certificate_id.c_str(), r.subject.c_str(), r.thing_name.c_str(),
              static_cast<ull>(r.seq), static_cast<ull>(checked->checkpoint.size), checked->checkpoint.origin.c_str(),
              key->VerifierKey().c_str());
  return 0;
}

// The profiles an export covers: those of --profile A,B, or every one; the
// JITR allow-list only ever those marked for JITR ([aws] jitr = true).
Result<std::set<std::string>> ExportProfiles(const config::StationConfig& config, const base::Args& args,
                                             exports::Format format) {
  std::set<std::string> named;
  if (auto list = args.Get("profile"))
    for (const std::string& name : SplitList(*list)) named.insert(name);
  if (format == exports::Format::kAwsProvisioningAllowlist && named.empty()) {
    ST_ASSIGN_OR_RETURN(auto profiles, runtime::LoadProfiles(config));
    for (const auto& profile : profiles)
      if (profile.aws_claim) named.insert(profile.name);
  }
  if (format != exports::Format::kAwsJitrAllowlist) return named;
  ST_ASSIGN_OR_RETURN(auto profiles, runtime::LoadProfiles(config));
  std::set<std::string> jitr;
  for (const auto& profile : profiles)
    if (profile.aws_jitr) jitr.insert(profile.name);
  for (const std::string& name : named)
    if (!jitr.count(name))
      return MakeError(Code::kFailedPrecondition, "PROFILE_NOT_JITR",
                       "profile '" + name + "' is not marked for JITR ([aws] jitr = true in its file): its "
                       "certificates never enter the allow-list");
  return named.empty() ? jitr : named;
}

int Export(const base::Args& args) {
  auto config = LoadConfig(args);
  if (!config.ok()) return Fail(config.error());
  auto format = exports::ParseFormat(args.Get("format", "jsonl"));
  if (!format.ok()) return Fail(format.error());
  auto since = args.Number("since-seq", 0, 0, std::numeric_limits<long>::max());
  auto checkpoint = args.Number("checkpoint", 0, 0, std::numeric_limits<long>::max());
  if (!since.ok()) return Fail(since.error());
  if (!checkpoint.ok()) return Fail(checkpoint.error());
  auto key = VerifyKey(*config, args);
  if (!key.ok()) return Fail(key.error());
  exports::ExportRequest request;
  request.format = *format;
  request.since_seq = static_cast<uint64_t>(*since);
  request.checkpoint_size = static_cast<uint64_t>(*checkpoint);
  request.out = args.Get("out", "");
  auto profiles = ExportProfiles(*config, args, *format);
  if (!profiles.ok()) return Fail(profiles.error());
  request.profiles = *profiles;
  if (*format == exports::Format::kAwsProvisioningAllowlist) {
    auto loaded = runtime::LoadProfiles(*config);
    if (!loaded.ok()) return Fail(loaded.error());
    for (const auto& profile : *loaded)
      if (profile.aws_claim) request.claim_profiles.insert(profile.name);
  }
  if (*format == exports::Format::kAwsBulk) {
    request.policy_name = args.Get("policy-name", "");
    auto cas = runtime::CaCertificateFiles(*config);
    if (!cas.ok()) return Fail(cas.error());
    request.ca_certificate_files = *cas;
    if (auto extra = args.Get("ca-cert")) request.ca_certificate_files.push_back(*extra);
  }
  auto store = OpenLogOf(*config, args);
  if (!store.ok()) return Fail(store.error());
  auto result = exports::Export(**store, *key, request, std::cout, std::cerr);
  if (!result.ok()) return Fail(result.error());
  if (*format == exports::Format::kAwsBulk) std::fputs(exports::AwsBulkCommands(request.out).c_str(), stdout);
  std::fprintf(stderr, "exported %llu records (%llu..%llu) against the signed checkpoint of %llu records%s%s\n",
               static_cast<ull>(result->records), static_cast<ull>(result->first_seq),
               static_cast<ull>(result->last_seq), static_cast<ull>(result->checkpoint_size),
               request.out.empty() ? "" : " into ", request.out.c_str());
  return 0;
}

}  // namespace

int AuditCommand(int argc, char** argv) {
  if (argc < 3)
    return Fail(base::UsageError("audit needs a subcommand: init-key, verify, prove, check-proof or export"));
  std::string sub = argv[2];
  auto args = base::Args::Parse(argc, argv, 3,
                                  {"config", "format", "out", "since-seq", "checkpoint", "serial", "public-key",
                                   "origin", "algo", "label", "station", "keys", "profile", "policy-name", "ca-cert"},
                                  {"all"});
  if (!args.ok()) return Fail(args.error());
  if (sub == "init-key") return InitKey(*args);
  if (sub == "verify") return Verify(*args);
  if (sub == "prove") return Prove(*args);
  if (sub == "check-proof") return CheckProof(*args);
  if (sub == "export") return Export(*args);
  return Fail(base::UsageError("unknown audit subcommand '" + sub + "' (init-key, verify, prove, check-proof, export)"));
}

}  // namespace station::cli
