// A line's SignRequest as it arrives on the wire (protobuf bytes): the
// translation the server makes, the request's bounds, then the rules of the
// profile it names (lines, device id, attributes, AWS IoT thing fields),
// every subject and SAN template filled from it, and its CSR.
#include <cstddef>
#include <cstdint>

#include "station/issuance/csr.h"
#include "station/policy/request_rules.h"
#include "station/server/request_message.h"
#include "tests/fuzz/shipped_policies.h"

using namespace station;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::SignRequest message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  issuance::IssueRequest req = server::ToIssueRequest(message);
  const issuance::Caller caller{"line-1", issuance::Role::kLine};
  if (!issuance::ValidateRequest(caller, req).ok()) return 0;

  for (const policy::Profile& profile : fuzz::ShippedPolicies()) {
    if (!req.profile.empty() && req.profile != profile.name) continue;
    policy::RequestFacts facts{caller.identity, req.device_id,  req.attributes,
                               req.thing_name,  req.thing_type, req.thing_attributes};
    if (!policy::CheckLine(profile.name, profile.lines, caller.identity).ok()) continue;
    if (!policy::CheckRequest(profile, facts).ok()) continue;
    std::string thing_name = policy::EffectiveThingName(facts);
    policy::TemplateInput input{req.device_id, thing_name, req.thing_type, req.attributes};
    for (const auto& field : profile.subject) (void)field.value.Render(input);
    for (const auto& san : profile.san) {
      (void)san.value.Render(input);
      (void)san.hw_type.Render(input);
    }
    for (const auto& extension : profile.extensions) (void)extension.utf8.Render(input);
  }
  if (!req.csr_der.empty()) (void)issuance::CheckCsr(req.csr_der, 16 * 1024);
  return 0;
}
