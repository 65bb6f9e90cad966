// A mutual-TLS channel to the station, from a line.conf.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>

#include "station/base/ossl.h"
#include "station/config/config.h"

namespace station::client {

// `tune` may change the channel's arguments (tests play misbehaving clients with it).
Result<std::shared_ptr<grpc::Channel>> MakeChannel(const config::LineConfig& config,
                                                   const std::function<void(grpc::ChannelArguments&)>& tune = {});

// Protobuf bytes (std::string) to Bytes and back.
inline Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace station::client
