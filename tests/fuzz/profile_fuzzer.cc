// An issuance profile file (TOML), as `stationctl profile check` and the
// station's start read it: every field, template and pattern it holds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "station/policy/profile_file.h"

using namespace station;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)policy::ParseProfile(text, "/etc/station/profiles/fuzzed.toml");
  return 0;
}
