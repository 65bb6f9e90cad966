#include "station/base/version.h"

namespace station::base {

const char* Version() noexcept { return STATION_VERSION; }

std::string VersionLine(std::string_view program) { return std::string(program) + " " + Version(); }

}  // namespace station::base
