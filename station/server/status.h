// The one place where the station's Error becomes gRPC: an RPC status, or a
// per-item error inside a SignResponse.
#pragma once

#include <grpcpp/grpcpp.h>

#include "station/base/error.h"
#include "station/issuance/request.h"
#include "station/v1/station.pb.h"

namespace station::server {

grpc::Status ToGrpcStatus(const Error& error);

// Fills a SignResponse with the outcome of one item.
void FillResponse(const Result<issuance::Issued>& outcome, v1::SignResponse& response);

}  // namespace station::server
