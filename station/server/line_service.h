// The LineSigner gRPC service: an adapter between station.v1 messages and the
// issuance pipeline. No business rule lives here.
#pragma once

#include <atomic>
#include <chrono>

#include "station/config/config.h"
#include "station/issuance/pipeline.h"
#include "station/server/stream_slots.h"
#include "station/v1/station.grpc.pb.h"

namespace station::server {

class LineService final : public v1::LineSigner::Service {
 public:
  LineService(issuance::Pipeline& pipeline, const config::LimitsConfig& limits)
      : pipeline_(pipeline), limits_(limits), slots_(limits.max_streams, limits.max_streams_per_line) {}

  grpc::Status SignStream(grpc::ServerContext* context,
                          grpc::ServerReaderWriter<v1::SignResponse, v1::SignRequest>* stream) override;
  grpc::Status Sign(grpc::ServerContext* context, const v1::SignRequest* request, v1::SignResponse* response) override;
  grpc::Status GetCaChain(grpc::ServerContext* context, const v1::GetCaChainRequest* request,
                          v1::GetCaChainResponse* response) override;

  const StreamSlots& streams() const noexcept { return slots_; }

 private:
  issuance::Pipeline& pipeline_;
  const config::LimitsConfig limits_;
  StreamSlots slots_;
};

}  // namespace station::server
