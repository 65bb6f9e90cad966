#include "tests/support/health_client.h"

#include <chrono>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "station/client/channel.h"

namespace station::testing {

std::string HealthOf(const config::LineConfig& line, const std::string& service) {
  auto channel = client::MakeChannel(line);
  if (!channel.ok()) return channel.error().ToString();
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return (status.error_code() == grpc::StatusCode::NOT_FOUND ? "NOT_FOUND: " : "ERROR: ") +
                            status.error_message();
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

std::string WaitForHealth(const config::LineConfig& line, const std::string& want, int timeout_s,
                          const std::string& service) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::string now = HealthOf(line, service);
  while (now != want && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    now = HealthOf(line, service);
  }
  return now;
}

}  // namespace station::testing
