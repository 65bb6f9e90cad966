#include <cstdio>

#include "station/cli/commands.h"
#include "station/config/config.h"
#include "station/runtime/station.h"
#include "station/setup/dev_join.h"
#include "station/setup/dev_setup.h"

namespace station::cli {

// A second station of the fleet of the station in `first_dir`.
int Join(const std::string& first_dir, const setup::DevSetupOptions& options) {
  if (!options.store_url.empty() || !options.store_password_file.empty())
    return Fail(base::UsageError("--join takes the fleet's store from " + first_dir + "; drop --store"));
  auto first = config::LoadStationConfig(first_dir + "/station.conf");
  if (!first.ok()) return Fail(first.error());
  auto token = runtime::OpenToken(first->token, 2);
  if (!token.ok()) return Fail(token.error());
  setup::DevJoinOptions join{options.dir, options.listen, options.station_id};
  auto result = setup::JoinFleet(*first, *token, join);
  if (!result.ok()) return Fail(result.error());
  std::printf("station %s joined the fleet of %s in %s\n"
              "  server config   %s\n"
              "  line config     %s\n"
              "shared store:     %s, as station %s\n"
              "start it with:    station-server --config %s\n",
              result->station_id.c_str(), first->path.c_str(), options.dir.c_str(), result->station_conf.c_str(),
              result->line_conf.c_str(), first->store.url.c_str(), result->station_id.c_str(),
              result->station_conf.c_str());
  return 0;
}

int DevSetupCommand(int argc, char** argv) {
  auto args = base::Args::Parse(argc, argv, 2, {"dir", "listen", "ca-key", "module", "store", "store-password-file", "station-id", "join"});
  if (!args.ok()) return Fail(args.error());
  setup::DevSetupOptions options;
  auto dir = args->Require("dir");
  if (!dir.ok()) return Fail(dir.error());
  options.dir = *dir;
  options.listen = args->Get("listen", options.listen);
  options.ca_key = args->Get("ca-key", options.ca_key);
  options.module = args->Get("module", options.module);
  options.store_url = args->Get("store", "");
  options.store_password_file = args->Get("store-password-file", "");
  options.station_id = args->Get("station-id", "");
  if (auto join = args->Get("join")) return Join(*join, options);
  if (options.store_url.empty() && (!options.store_password_file.empty() || !options.station_id.empty()))
    return Fail(MakeError(Code::kInvalidArgument, "USAGE", "--store-password-file and --station-id go with --store URL"));
  auto result = setup::DevSetup(options);
  if (!result.ok()) return Fail(result.error());
  std::printf("development station ready in %s\n"
              "  server config   %s\n"
              "  line config     %s\n"
              "  issuing CA      %s (key %s, generated inside the SoftHSM token)\n"
              "start it with:    station-server --config %s\n",
              options.dir.c_str(), result->station_conf.c_str(), result->line_conf.c_str(), result->ca_cert.c_str(),
              result->key_uri.c_str(), result->station_conf.c_str());
  if (!result->station_id.empty())
    std::printf("shared store:     %s, as station %s\n", options.store_url.c_str(), result->station_id.c_str());
  return 0;
}

}  // namespace station::cli
