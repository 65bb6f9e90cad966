// Reading issuance profiles from TOML files, with every check the station
// makes at startup; `stationctl profile check` runs the same checks offline.
// docs/profiles.md documents every field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "station/policy/profile.h"

namespace station::policy {

// What a profile file starts from: the struct's defaults and an optional
// CN = {device_id}. Not a profile any station serves.
Profile ProfileDefaults();

// One profile file; its name is the file name without ".toml". Errors are
// FAILED_PRECONDITION / BAD_PROFILE: "FILE: FIELD: what is wrong".
Result<Profile> LoadProfileFile(const std::string& path);
// The same from text; `path` gives the profile its name and names it in errors.
Result<Profile> ParseProfile(std::string_view text, const std::string& path);

// Every *.toml file in the directory, sorted by name, and nothing else: a
// station serves no profile that nobody wrote.
Result<std::vector<Profile>> LoadProfileDir(const std::string& dir);

}  // namespace station::policy
