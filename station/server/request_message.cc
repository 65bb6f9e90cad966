#include "station/server/request_message.h"

namespace station::server {
namespace {

// Copies at most `limit` + 1 entries, so that validation refuses an overlong
// map with a clear reason without copying a hostile number of entries.
void CopyBounded(const google::protobuf::Map<std::string, std::string>& from, size_t limit,
                 std::map<std::string, std::string>& to) {
  for (const auto& [key, value] : from) {
    to[key] = value;
    if (to.size() > limit) break;
  }
}

}  // namespace

issuance::IssueRequest ToIssueRequest(const v1::SignRequest& msg) {
  issuance::IssueRequest req;
  req.request_id = msg.request_id();
  req.csr_der.assign(msg.csr_der().begin(), msg.csr_der().end());
  req.profile = msg.profile();
  req.device_id = msg.device_id();
  CopyBounded(msg.attributes(), issuance::kMaxAttributes, req.attributes);
  req.thing_name = msg.thing_name();
  req.thing_type = msg.thing_type();
  CopyBounded(msg.thing_attributes(), issuance::kMaxThingAttributes, req.thing_attributes);
  return req;
}

}  // namespace station::server
