// The station's version: CMake's project(VERSION), written once there.
#pragma once

#include <string>
#include <string_view>

namespace station::base {

const char* Version() noexcept;  // "0.1.0"

// What a program's --version prints: "station-server 0.1.0".
std::string VersionLine(std::string_view program);

}  // namespace station::base
