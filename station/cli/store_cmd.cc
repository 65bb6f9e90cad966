// stationctl store migrate: a station's log moved from its SQLite file into
// the shared store (runtime/store_migration.h).
#include <cstdio>
#include <filesystem>

#include "station/audit/merkle.h"
#include "station/audit/verify.h"
#include "station/cli/commands.h"
#include "station/config/config.h"
#include "station/runtime/audit_signer.h"
#include "station/runtime/store_migration.h"

namespace station::cli {
namespace {

using ull = unsigned long long;

// Where the log goes: --to, --station-id and --password-file, each defaulting
// to the [store] of --config (the station's config as it will run).
Result<store::PostgresOptions> Target(const base::Args& args, const config::StationConfig* config) {
  store::PostgresOptions target;
  target.url = args.Get("to", config ? config->store.url : "");
  target.station_id = args.Get("station-id", config ? config->store.station_id : "");
  target.password_file = args.Get("password-file", config ? config->store.password_file : "");
  if (target.url.empty()) return base::UsageError("name the shared store: --to URL, or --config with a [store] url");
  if (target.station_id.empty())
    return base::UsageError("name the station in the shared store: --station-id ID, or --config with [store] "
                            "station_id");
  if (!config::ValidStationId(target.station_id))
    return base::UsageError("--station-id: 1 to 64 of A-Z a-z 0-9 . _ -");
  return target;
}

// The key the log's checkpoints verify with: --public-key (and --origin), or
// the [audit] of --config. Without one the move is refused: a log moved
// unchecked could carry a forgery into the fleet's store.
Result<audit::NoteKey> Key(const base::Args& args, const config::StationConfig* config) {
  if (auto file = args.Get("public-key")) {
    ST_ASSIGN_OR_RETURN(std::string origin, args.Require("origin"));
    return audit::NoteKey::FromPemFile(origin, *file);
  }
  if (!config)
    return base::UsageError("the log's checkpoints are checked before and after the move: name the audit key with "
                            "--config station.conf, or --public-key AUDIT-KEY.pem --origin ORIGIN");
  return runtime::PublishedAuditKey(config->audit);
}

int Migrate(const base::Args& args) {
  auto from = args.Require("from-sqlite");
  if (!from.ok()) return Fail(from.error());
  const std::string path = *from + "/audit.db";
  if (!std::filesystem::is_regular_file(path))
    return Fail(MakeError(Code::kNotFound, "AUDIT_LOG_NOT_FOUND", path + " does not exist: --from-sqlite takes "
                                                                         "the station's state_dir"));
  std::optional<config::StationConfig> config;
  if (auto config_path = args.Get("config")) {
    auto loaded = config::LoadStationConfig(*config_path);
    if (!loaded.ok()) return Fail(loaded.error());
    config = std::move(*loaded);
  }
  const config::StationConfig* conf = config ? &*config : nullptr;
  auto target = Target(args, conf);
  if (!target.ok()) return Fail(target.error());
  auto key = Key(args, conf);
  if (!key.ok()) return Fail(key.error());
  auto done = runtime::MigrateSqliteLog(path, *target, *key);
  if (!done.ok()) return Fail(done.error());
  const store::MoveSummary& moved = done->moved;
  const audit::VerifyReport& after = done->verified;
  std::printf("moved %s to %s: %llu issuances, %llu officer records, %llu signed checkpoints, %llu registry rows\n",
              path.c_str(), done->moved_to.c_str(), static_cast<ull>(moved.issuances),
              static_cast<ull>(moved.officer_records), static_cast<ull>(moved.checkpoints),
              static_cast<ull>(moved.registry_rows));
  std::printf("verified there: %llu records, hash chain and Merkle tree, %llu signed checkpoints",
              static_cast<ull>(after.records), static_cast<ull>(after.checkpoints));
  if (after.latest)
    std::printf(" (latest: %llu records, root %s, as in the file)", static_cast<ull>(after.latest->size),
                audit::HashHex(after.latest->root).c_str());
  std::printf("\n%s is marked moved: a station no longer opens it for writing (audit verify still reads it)\n"
              "next: give station.conf\n\n[store]\nurl = \"%s\"\nstation_id = \"%s\"\n%s%s%s\nand start the station\n",
              path.c_str(), target->url.c_str(), target->station_id.c_str(),
              target->password_file.empty() ? "" : "password_file = \"", target->password_file.c_str(),
              target->password_file.empty() ? "" : "\"\n");
  return 0;
}

}  // namespace

int StoreCommand(int argc, char** argv) {
  if (argc < 3 || std::string(argv[2]) != "migrate")
    return Fail(base::UsageError("store needs a subcommand: migrate --from-sqlite STATE_DIR (--config station.conf | "
                                 "--to URL --station-id ID [--password-file FILE] --public-key PEM --origin O)"));
  auto args = base::Args::Parse(argc, argv, 3,
                                {"from-sqlite", "config", "to", "station-id", "password-file", "public-key", "origin"});
  if (!args.ok()) return Fail(args.error());
  return Migrate(*args);
}

}  // namespace station::cli
