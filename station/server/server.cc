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
