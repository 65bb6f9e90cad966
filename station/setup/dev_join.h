// `stationctl dev-setup --join DIR`: a second development station of the
// fleet of the station in DIR (made by dev-setup on a shared store). It shares
// that station's token, CAs, TLS CA, profiles, officers and store; it has its
// own station id, state directory, audit key and log, listen address, server
// certificate and line (line.conf, as CN=line-<station id>).
#pragma once

#include <memory>
#include <string>

#include "hsm/token.h"
#include "station/config/config.h"
#include "station/setup/dev_setup.h"

namespace station::setup {

struct DevJoinOptions {
  std::string dir;         // the new station's; must not hold a station yet
  std::string listen = "127.0.0.1:7444";
  std::string station_id;  // "": one is picked
};

// `first` is the joined station's config, `token` its token (opened by the caller).
Result<DevSetupResult> JoinFleet(const config::StationConfig& first, std::shared_ptr<hsm::Token> token,
                                 const DevJoinOptions& options);

}  // namespace station::setup
