// The station's gRPC server: mutual TLS only, bounded messages and streams.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "station/runtime/station.h"
#include "station/server/health.h"
#include "station/server/line_service.h"
#include "station/server/metrics_listener.h"
#include "station/server/officer_service.h"

namespace station::server {

class StationServer {
 public:
  // Opens the station (token, CA, audit log) and starts serving on `listen`
  // (config.listen when empty). Port 0 picks a free port.
  static Result<std::unique_ptr<StationServer>> Start(const config::StationConfig& config, const std::string& listen);

  // "HOST:PORT" with the real port.
  const std::string& address() const noexcept { return address_; }

  // Reports NOT_SERVING, stops accepting, lets in-flight calls finish (up to
  // `grace`), then drains the pipeline and makes the audit log durable.
  void Shutdown(std::chrono::milliseconds grace);

  runtime::Station& station() { return *station_; }
  // "HOST:PORT" of GET /metrics; "" without [metrics] listen.
  std::string metrics_address() const { return metrics_ ? metrics_->address() : ""; }

 private:
  StationServer() = default;
  std::unique_ptr<runtime::Station> station_;
  std::unique_ptr<LineService> service_;
  std::unique_ptr<OfficerService> officer_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HealthReporter> health_;
  std::unique_ptr<MetricsListener> metrics_;
  std::string address_;
};

// Server TLS credentials that require and verify a client certificate; with
// [tls] crl, the revocation list is laid out in `crl_dir` and enforced, and
// its earliest nextUpdate goes to `crl_next_update_unix` when given.
Result<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const config::TlsConfig& tls,
                                                                       const std::string& crl_dir,
                                                                       int64_t* crl_next_update_unix = nullptr);

}  // namespace station::server
