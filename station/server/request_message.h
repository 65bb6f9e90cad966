// A line's SignRequest message, translated into the pipeline's IssueRequest.
// Kept apart from the service so that the request fuzzer drives exactly
// what the server does with a message (tests/fuzz).
#pragma once

#include "station/issuance/request.h"
#include "station/v1/station.pb.h"

namespace station::server {

// Maps are copied up to one entry past their limit, so that validation
// refuses an overlong one with its reason without copying all of it.
issuance::IssueRequest ToIssueRequest(const v1::SignRequest& msg);

}  // namespace station::server
