// The profiles the project ships (ops/profiles), parsed once: the rules the
// request and CSR fuzzers hold their inputs against.
#pragma once

#include <cstdlib>
#include <vector>

#include "station/policy/profile_file.h"
#include "station/setup/shipped_profiles.h"

namespace station::fuzz {

inline const std::vector<policy::Profile>& ShippedPolicies() {
  static const std::vector<policy::Profile> profiles = [] {
    std::vector<policy::Profile> out{policy::ProfileDefaults()};
    for (const auto& shipped : setup::ShippedProfiles()) {
      auto p = policy::ParseProfile(shipped.text, shipped.file_name);
      if (!p.ok()) std::abort();  // a shipped profile that does not load is a bug, not a finding
      out.push_back(std::move(*p));
    }
    return out;
  }();
  return profiles;
}

}  // namespace station::fuzz
