// What every officer command needs to talk to the Officer service: a
// connection from officer.conf, a deadline, and RPC errors as our Errors.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "station/base/args.h"
#include "station/v1/station.grpc.pb.h"

namespace station::cli {

// officer.conf (the shape of a line.conf: target, [tls] ca/cert/key) from
// --config; --target HOST:PORT overrides its target.
Result<std::unique_ptr<v1::Officer::Stub>> ConnectOfficer(const base::Args& args);

// A context with the officer commands' deadline (a CA retirement waits up to
// 30 s for signatures in flight; a large lot takes a few seconds).
std::unique_ptr<grpc::ClientContext> OfficerContext();

// The RPC status as an Error: our servers put "REASON: message" in it.
Error FromStatus(const grpc::Status& status);

// Prints an approval's answer; the exit code.
int PrintApproval(const grpc::Status& status, const v1::ApprovalResponse& reply);

}  // namespace station::cli
