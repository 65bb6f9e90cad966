// Names the calling thread (15 characters at most, as Linux keeps them), so
// that top -H, perf and /proc/PID/task show which of the station's threads
// is busy: the audit writer, a worker, a signer.
#pragma once

#include <string>

namespace station::base {

void NameThisThread(const std::string& name);

}  // namespace station::base
