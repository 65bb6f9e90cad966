#include "station/server/server.h"

#include <grpcpp/security/server_credentials.h>

#include "hsm/pin.h"
#include "station/pki/files.h"

namespace station::server {

Result<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const config::TlsConfig& tls) {
  ST_ASSIGN_OR_RETURN(std::string cert, pki::ReadFile(tls.cert));
  ST_ASSIGN_OR_RETURN(auto key, hsm::ReadSecretFile(tls.key, "TLS key file " + tls.key, hsm::kMaxKeyFileBytes));
  ST_ASSIGN_OR_RETURN(std::string client_ca, pki::ReadFile(tls.client_ca));
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = client_ca;
  options.pem_key_cert_pairs.push_back({key.reveal(), cert});
  return grpc::SslServerCredentials(options);
}

Result<std::unique_ptr<StationServer>> StationServer::Start(const config::StationConfig& config,
                                                            const std::string& listen_override) {
  std::unique_ptr<StationServer> s(new StationServer());
  ST_ASSIGN_OR_RETURN(auto credentials, MakeServerCredentials(config.tls));
  ST_ASSIGN_OR_RETURN(s->station_, runtime::Station::Open(config));
  LineServiceLimits limits;
  limits.max_streams = config.limits.max_streams;
  limits.max_inflight_per_stream = config.limits.max_inflight_per_stream;
  limits.stream_idle_timeout = std::chrono::seconds(config.limits.stream_idle_timeout_s);
  s->service_ = std::make_unique<LineService>(s->station_->pipeline(), limits);
  s->officer_service_ = std::make_unique<OfficerService>(s->station_->officer_desk(), s->station_->registry_desk());

  std::string listen = listen_override.empty() ? config.listen : listen_override;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, credentials, &port);
  builder.RegisterService(s->service_.get());
  builder.RegisterService(s->officer_service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.limits.max_message_bytes));
  builder.SetMaxSendMessageSize(4 << 20);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, static_cast<int>(config.limits.max_streams) + 16);
  // Dead peers and misbehaving clients: the server pings a quiet connection
  // every minute and drops it if no answer comes in 20 s; a client may not
  // ping more often than every 10 s (twice, and it gets GOAWAY); a connection
  // without a stream for 10 minutes is closed.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 600000);
  grpc::ResourceQuota quota("station");
  // Each stream holds a handler thread; leave room for unary calls.
  quota.SetMaxThreads(static_cast<int>(config.limits.max_streams) * 2 + 32);
  builder.SetResourceQuota(quota);
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || port == 0)
    return MakeError(Code::kFailedPrecondition, "LISTEN_FAILED",
                     "cannot listen on " + listen + " (address in use, or not an address of this machine?)");
  s->address_ = listen.substr(0, listen.rfind(':')) + ":" + std::to_string(port);
  return s;
}

void StationServer::Shutdown(std::chrono::milliseconds grace) {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + grace);
  if (station_) station_->Shutdown();
}

}  // namespace station::server
