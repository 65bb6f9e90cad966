// The standard gRPC health service (grpc.health.v1.Health) on the station's
// port, for line controllers and load balancers: SERVING while the station
// can issue (runtime::Station::Readiness), NOT_SERVING while it cannot
// (issuance halted, the token or the shared store unavailable) and from the
// stop signal on, so a client moves away before the server stops. Reported
// for the whole server ("") and for each service by its full name.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "station/runtime/station.h"

namespace station::server {

// The names health reports under.
inline constexpr const char* kHealthNames[] = {"", "station.v1.LineSigner", "station.v1.Officer"};

class HealthReporter {
 public:
  // Reports `station`'s readiness on `server`'s health service, now and at
  // every change (looked at four times a second).
  HealthReporter(runtime::Station& station, grpc::Server& server);
  ~HealthReporter();  // Stop()s
  HealthReporter(const HealthReporter&) = delete;
  HealthReporter& operator=(const HealthReporter&) = delete;

  // NOT_SERVING from now on, whatever the station's state.
  void Stop();

 private:
  void Loop();
  void Report(bool serving, const std::string& why);

  runtime::Station& station_;
  grpc::HealthCheckServiceInterface* health_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;            // guarded by mu_
  std::optional<bool> serving_;      // the last status reported; the loop's own
  std::thread loop_;
};

}  // namespace station::server
