// The issuance profiles the project ships in ops/profiles/, compiled in at
// build time: `stationctl dev-setup` installs them, and the tests check the
// certificates they issue against their specifications.
#pragma once

#include <string>
#include <vector>

namespace station::setup {

struct ShippedProfile {
  const char* file_name;  // "matter-dac.toml"
  const char* text;
};

const std::vector<ShippedProfile>& ShippedProfiles();

}  // namespace station::setup
