// The /metrics endpoint: a small HTTP/1.1 listener of its own, apart from
// the gRPC port (Prometheus scrapes plain HTTP; the lines' port stays mutual
// TLS only). One connection at a time, each bounded: 8 KiB of request, 2 s
// to send it, then closed. GET or HEAD /metrics gets the text format; any
// other path 404, any other method 405, anything else 400.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "station/base/error.h"

namespace station::server {

class MetricsListener {
 public:
  // Listens on `listen` ("HOST:PORT", "[::1]:PORT"; port 0 picks one) and
  // answers each scrape with what `scrape` returns.
  static Result<std::unique_ptr<MetricsListener>> Start(const std::string& listen, std::function<std::string()> scrape);
  ~MetricsListener();  // stops listening

  const std::string& address() const noexcept { return address_; }

 private:
  MetricsListener(int fd, std::string address, std::function<std::string()> scrape)
      : fd_(fd), address_(std::move(address)), scrape_(std::move(scrape)) {}
  void Run();
  void Serve(int client);

  int fd_;
  std::string address_;
  std::function<std::string()> scrape_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace station::server
