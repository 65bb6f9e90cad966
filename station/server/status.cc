#include "station/server/status.h"

namespace station::server {

grpc::Status ToGrpcStatus(const Error& error) {
  // Our codes are numbered as gRPC's; the reason rides in front of the message
  // so a client without access to SignResponse still gets it.
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(error.code)),
                      error.reason + ": " + error.message);
}

void FillResponse(const Result<issuance::Issued>& outcome, v1::SignResponse& response) {
  if (!outcome.ok()) {
    response.set_code(static_cast<int32_t>(outcome.error().code));
    response.set_reason(outcome.error().reason);
    response.set_message(outcome.error().message);
    return;
  }
  const issuance::Issued& issued = *outcome;
  response.set_code(0);
  response.set_certificate_der(issued.certificate_der.data(), issued.certificate_der.size());
  for (const Bytes& der : issued.chain_der) response.add_chain_der(der.data(), der.size());
  response.set_serial_hex(issued.serial_hex);
  response.set_certificate_id(issued.certificate_id);
  response.set_audit_seq(issued.audit_seq);
}

}  // namespace station::server
