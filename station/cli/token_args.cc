#include "station/cli/token_args.h"

#include "station/config/config.h"
#include "station/runtime/station.h"

namespace station::cli {

std::set<std::string> TokenFlags() { return {"config", "module", "token-uri", "pin-file", "pin-env"}; }

Result<std::shared_ptr<hsm::Token>> OpenTokenFromArgs(const base::Args& args) {
  config::TokenConfig token;
  if (auto path = args.Get("config")) {
    ST_ASSIGN_OR_RETURN(auto station, config::LoadStationConfig(*path));
    token = station.token;
  } else {
    token.module = args.Get("module", token.module);
    ST_ASSIGN_OR_RETURN(token.uri, args.Require("token-uri"));
    if (auto file = args.Get("pin-file")) {
      token.pin = {hsm::PinSource::Kind::kFile, *file};
    } else if (auto env = args.Get("pin-env")) {
      token.pin = {hsm::PinSource::Kind::kEnv, *env};
    } else {
      return base::UsageError("name the token: --config station.conf, or --module PATH --token-uri URI with "
                              "--pin-file FILE (mode 0600) or --pin-env VARIABLE");
    }
  }
  return runtime::OpenToken(token, 2);
}

}  // namespace station::cli
