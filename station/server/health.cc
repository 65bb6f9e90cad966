#include "station/server/health.h"

#include <chrono>

#include "station/base/log.h"

namespace station::server {

HealthReporter::HealthReporter(runtime::Station& station, grpc::Server& server)
    : station_(station), health_(server.GetHealthCheckService()) {
  loop_ = std::thread([this] { Loop(); });
}

HealthReporter::~HealthReporter() { Stop(); }

void HealthReporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  Report(false, "the server is stopping");
}

void HealthReporter::Loop() {
  constexpr auto kInterval = std::chrono::milliseconds(250);
  std::unique_lock<std::mutex> lock(mu_);
  do {
    lock.unlock();
    Status ready = station_.Readiness();
    Report(ready.ok(), ready.ok() ? "" : ready.error().ToString());
    lock.lock();
  } while (!cv_.wait_for(lock, kInterval, [this] { return stopping_; }));
}

void HealthReporter::Report(bool serving, const std::string& why) {
  if (health_ == nullptr || serving_ == serving) return;
  for (const char* name : kHealthNames) health_->SetServingStatus(name, serving);
  if (serving_.has_value()) base::LogInfo(serving ? "health: SERVING" : "health: NOT_SERVING (" + why + ")");
  serving_ = serving;
}

}  // namespace station::server
