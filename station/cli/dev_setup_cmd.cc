#include <cstdio>

#include "station/cli/commands.h"
#include "station/setup/dev_setup.h"

namespace station::cli {

int DevSetupCommand(int argc, char** argv) {
  auto args = base::Args::Parse(argc, argv, 2, {"dir", "listen", "ca-key", "module", "store", "store-password-file", "station-id"});
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
