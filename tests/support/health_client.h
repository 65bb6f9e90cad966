// A grpc.health.v1 client for tests, with a line's TLS material (health is
// behind the station's mutual TLS like every service).
#pragma once

#include <string>

#include "station/config/config.h"

namespace station::testing {

// The status `service` ("" for the server) answers at line.target:
// "SERVING", "NOT_SERVING", ... or the call's error ("NOT_FOUND: ...").
std::string HealthOf(const config::LineConfig& line, const std::string& service = "");

// Asks every 100 ms until the answer is `want` or `timeout_s` pass; the last answer.
std::string WaitForHealth(const config::LineConfig& line, const std::string& want, int timeout_s = 10,
                          const std::string& service = "");

}  // namespace station::testing
