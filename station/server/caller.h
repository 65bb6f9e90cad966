// Who is calling: the identity (CN) and role (OU = line | officer) of the
// verified TLS client certificate. A call without one gets no service.
#pragma once

#include <grpcpp/grpcpp.h>

#include "station/issuance/request.h"

namespace station::server {

// UNAUTHENTICATED-like refusals are PERMISSION_DENIED with reason
// CALLER_UNAUTHENTICATED or ROLE_UNKNOWN.
Result<issuance::Caller> CallerFromContext(const grpc::ServerContext& context);

// The caller from a client certificate (PEM), as above.
Result<issuance::Caller> CallerFromCertPem(const std::string& pem);

}  // namespace station::server
