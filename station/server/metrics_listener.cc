#include "station/server/metrics_listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "station/base/log.h"
#include "station/base/thread_name.h"

namespace station::server {
namespace {

constexpr size_t kMaxRequestBytes = 8192;
constexpr int kTimeoutSeconds = 2;

Error ListenError(const std::string& listen, const std::string& why) {
  return MakeError(Code::kFailedPrecondition, "METRICS_LISTEN_FAILED", "[metrics] listen " + listen + ": " + why);
}

void SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the scraper went away or stalled past the timeout
    sent += static_cast<size_t>(n);
  }
}

std::string Response(const char* status, const std::string& type, const std::string& body, bool head = false) {
  return std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + (head ? "" : body);
}

// "HOST:PORT" or "[V6]:PORT" as a socket address.
Result<sockaddr_storage> Resolve(const std::string& listen, socklen_t& length) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return ListenError(listen, ::gai_strerror(rc));
  sockaddr_storage out{};
  std::memcpy(&out, found->ai_addr, found->ai_addrlen);
  length = found->ai_addrlen;
  ::freeaddrinfo(found);
  return out;
}

std::string AddressText(const sockaddr_storage& a) {
  char host[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(a);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(v6.sin6_port));
  }
  const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
  ::inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(v4.sin_port));
}

}  // namespace

Result<std::unique_ptr<MetricsListener>> MetricsListener::Start(const std::string& listen,
                                                                std::function<std::string()> scrape) {
  socklen_t length = 0;
  ST_ASSIGN_OR_RETURN(sockaddr_storage address, Resolve(listen, length));
  int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ListenError(listen, std::strerror(errno));
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd, 16) != 0) {
    Error e = ListenError(listen, std::strerror(errno));
    ::close(fd);
    return e;
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  std::unique_ptr<MetricsListener> out(new MetricsListener(fd, AddressText(bound), std::move(scrape)));
  out->thread_ = std::thread([self = out.get()] { self->Run(); });
  return out;
}

MetricsListener::~MetricsListener() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

void MetricsListener::Run() {
  base::NameThisThread("metrics");
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;  // and look at stopping_ again
    int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    timeval timeout{kTimeoutSeconds, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    Serve(client);
    ::close(client);
  }
}

void MetricsListener::Serve(int client) {
  std::string request;
  char buf[1024];
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (request.size() >= kMaxRequestBytes)
      return SendAll(client, Response("431 Request Header Fields Too Large", "text/plain", "too long\n"));
    ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n <= 0) return;  // closed, or silent past the timeout
    request.append(buf, static_cast<size_t>(n));
  }
  const std::string line = request.substr(0, request.find("\r\n"));
  const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1 || line.compare(sp2 + 1, 5, "HTTP/") != 0)
    return SendAll(client, Response("400 Bad Request", "text/plain", "bad request\n"));
  const std::string method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (method != "GET" && method != "HEAD")
    return SendAll(client, Response("405 Method Not Allowed", "text/plain", "GET /metrics\n"));
  if (target != "/metrics" && target.rfind("/metrics?", 0) != 0)
    return SendAll(client, Response("404 Not Found", "text/plain", "GET /metrics\n"));
  SendAll(client, Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", scrape_(), method == "HEAD"));
}

}  // namespace station::server
