// What GET /metrics answers (docs/operations.md lists each metric): read from
// counters the pipeline, the audit writer and the watcher keep, so a scrape
// never calls into the token, never takes a store lock and never waits on
// issuance.
#pragma once

#include <cstdint>
#include <string>

#include "station/runtime/station.h"
#include "station/server/stream_slots.h"

namespace station::server {

// `crl_next_update_unix`: the earliest nextUpdate of [tls] crl; 0 leaves the
// metric out (no revocation list configured).
std::string MetricsText(runtime::Station& station, const StreamSlots& streams, int64_t crl_next_update_unix);

}  // namespace station::server
