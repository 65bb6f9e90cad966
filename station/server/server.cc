#include "station/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <cstdlib>

#include "station/base/files.h"
#include "station/base/log.h"
#include "station/base/secret.h"
#include "station/server/client_crl.h"
#include "station/server/metrics.h"

namespace station::server {

namespace {

// TLS 1.3's suites, and for TLS 1.2 only ECDHE with AES-GCM: forward secrecy
// and an AEAD, nothing else. gRPC reads this once, before its first TLS
// context; setting it here also overrides a weaker list from the environment.
constexpr const char* kCipherSuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";

}  // namespace

Result<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const config::TlsConfig& tls,
                                                                       const std::string& crl_dir,
                                                                       int64_t* crl_next_update_unix) {
  ST_ASSIGN_OR_RETURN(std::string cert, base::ReadFile(tls.cert));
  ST_ASSIGN_OR_RETURN(std::string key_path, config::TlsKeyPath(tls));
  ST_ASSIGN_OR_RETURN(auto key, ReadSecretFile(key_path, "TLS key file " + key_path, kMaxKeyFileBytes));
  ST_ASSIGN_OR_RETURN(std::string client_ca, base::ReadFile(tls.client_ca));
  ::setenv("GRPC_SSL_CIPHER_SUITES", kCipherSuites, 1);
  // gRPC's TLS credentials: TLS 1.2 at least (its default minimum, checked by
  // tests/faults/tls_test.cc), the client's chain verified against client_ca,
  // validity dates included, and the revocation list when there is one.
  using grpc::experimental::IdentityKeyCertPair;
  auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
      client_ca, std::vector<IdentityKeyCertPair>{{key.reveal(), cert}});
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!tls.crl.empty()) {
    ST_ASSIGN_OR_RETURN(CrlSummary crls, PrepareCrlDirectory(tls.crl, client_ca, crl_dir));
    (crls.due_soon ? base::LogWarning : base::LogInfo)(crls.text);
    if (crl_next_update_unix != nullptr) *crl_next_update_unix = crls.next_update_unix;
    options.set_crl_directory(crl_dir);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

Result<std::unique_ptr<StationServer>> StationServer::Start(const config::StationConfig& config,
                                                            const std::string& listen_override) {
  std::unique_ptr<StationServer> s(new StationServer());
  int64_t crl_next_update = 0;
  ST_ASSIGN_OR_RETURN(auto credentials,
                      MakeServerCredentials(config.tls, config.state_dir + "/tls-crl", &crl_next_update));
  ST_ASSIGN_OR_RETURN(s->station_, runtime::Station::Open(config));
  s->service_ = std::make_unique<LineService>(s->station_->pipeline(), config.limits);
  s->officer_service_ = std::make_unique<OfficerService>(s->station_->officer_desk(), s->station_->registry_desk());

  std::string listen = listen_override.empty() ? config.listen : listen_override;
  // grpc.health.v1.Health (health.h) and server reflection, on the same port
  // and behind the same mutual TLS as the station's own services.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
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
  // A connection that has not finished its TLS handshake (no client
  // certificate shown yet) is closed after this: strangers hold nothing long.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             static_cast<int>(config.limits.handshake_timeout_s * 1000));
  grpc::ResourceQuota quota("station");
  // Each stream holds a handler thread; leave room for unary calls.
  quota.SetMaxThreads(static_cast<int>(config.limits.max_streams) * 2 + 32);
  builder.SetResourceQuota(quota);
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || port == 0)
    return MakeError(Code::kFailedPrecondition, "LISTEN_FAILED",
                     "cannot listen on " + listen + " (address in use, or not an address of this machine?)");
  s->address_ = listen.substr(0, listen.rfind(':')) + ":" + std::to_string(port);
  s->health_ = std::make_unique<HealthReporter>(*s->station_, *s->server_);
  if (!config.metrics.listen.empty()) {
    StationServer* self = s.get();
    ST_ASSIGN_OR_RETURN(s->metrics_, MetricsListener::Start(config.metrics.listen, [self, crl_next_update] {
      return MetricsText(*self->station_, self->service_->streams(), crl_next_update);
    }));
  }
  return s;
}

void StationServer::Shutdown(std::chrono::milliseconds grace) {
  if (health_) health_->Stop();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + grace);
  if (station_) station_->Shutdown();
  metrics_.reset();  // last: a scrape during the shutdown still answers
}

}  // namespace station::server
