// One-line log messages on stderr, with a UTC timestamp and the level. Under
// journald (stderr is the stream JOURNAL_STREAM names) each line starts with
// its syslog priority instead (<3> error, <4> warning, <6> info), and the
// journal keeps the time. Never give it a secret.
#pragma once

#include <string>

namespace station::base {

void LogInfo(const std::string& message);
void LogWarning(const std::string& message);
void LogError(const std::string& message);

}  // namespace station::base
