// One-line log messages on stderr, with a UTC timestamp. Never give it a secret.
#pragma once

#include <string>

namespace station::base {

void LogInfo(const std::string& message);
void LogError(const std::string& message);

}  // namespace station::base
