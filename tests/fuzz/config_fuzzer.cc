// station.conf and line.conf (TOML): every table, key, bound and duration.
// Paths in them are only resolved, never opened, while a config loads.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "station/config/config.h"

using namespace station;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)config::ParseStationConfig(text, "/etc/station/station.conf");
  (void)config::ParseLineConfig(text, "/etc/station/line.conf");
  return 0;
}
