#include "station/client/channel.h"

#include "station/base/files.h"
#include "station/base/secret.h"

namespace station::client {

Result<std::shared_ptr<grpc::Channel>> MakeChannel(const config::LineConfig& config,
                                                   const std::function<void(grpc::ChannelArguments&)>& tune) {
  ST_ASSIGN_OR_RETURN(std::string ca, base::ReadFile(config.ca));
  ST_ASSIGN_OR_RETURN(std::string cert, base::ReadFile(config.cert));
  ST_ASSIGN_OR_RETURN(auto key, ReadSecretFile(config.key, "TLS key file " + config.key, kMaxKeyFileBytes));
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca;
  options.pem_private_key = key.reveal();
  options.pem_cert_chain = cert;
  grpc::ChannelArguments args;
  if (!config.server_name.empty()) args.SetSslTargetNameOverride(config.server_name);
  args.SetMaxReceiveMessageSize(4 << 20);
  // Each channel gets its own connection, so simulated streams spread over sockets.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // A station on the factory LAN that restarts is back within seconds: look
  // for it again soon (gRPC's default backoff starts at 1 s and grows to 120 s).
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: that is also each attempt's
  // connect timeout (20 s), and a busy station needs it for the handshake.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  if (tune) tune(args);
  return grpc::CreateCustomChannel(config.target, grpc::SslCredentials(options), args);
}

}  // namespace station::client
