#include "station/issuance/request.h"

#include "station/base/text.h"
#include "station/policy/profile.h"

namespace station::issuance {

const char* RoleName(Role role) noexcept {
  return role == Role::kLine ? "line" : "officer";
}

Status ValidateRequest(const Caller& caller, const IssueRequest& request) {
  if (caller.role != Role::kLine)
    return MakeError(Code::kPermissionDenied, "ROLE_NOT_ALLOWED",
                     "caller '" + caller.identity + "' has role " + RoleName(caller.role) +
                         "; only line certificates may request device certificates");
  if (request.request_id.empty() || request.request_id.size() > kMaxRequestIdBytes ||
      !PrintableAscii(request.request_id))
    return MakeError(Code::kInvalidArgument, "REQUEST_ID_INVALID",
                     "request_id must be 1 to 128 printable ASCII characters");
  if (!request.device_id.empty() && !policy::ValidDeviceId(request.device_id))
    return MakeError(Code::kInvalidArgument, "DEVICE_ID_INVALID",
                     "device_id must be at most 64 printable ASCII characters (it becomes the subject CN)");
  if (request.attributes.size() > kMaxAttributes)
    return MakeError(Code::kInvalidArgument, "ATTRIBUTES_INVALID",
                     "at most " + std::to_string(kMaxAttributes) + " attributes are accepted");
  for (const auto& [key, value] : request.attributes) {
    if (key.empty() || key.size() > kMaxAttributeKeyBytes || value.size() > kMaxAttributeValueBytes)
      return MakeError(Code::kInvalidArgument, "ATTRIBUTES_INVALID",
                       "attribute keys have 1 to 64 bytes and values at most 1024 bytes");
  }
  if (request.profile.size() > kMaxProfileNameBytes || !PrintableAscii(request.profile))
    return MakeError(Code::kPermissionDenied, "UNKNOWN_PROFILE", "profile names are at most 64 printable characters");
  if (request.thing_name.size() > kMaxThingFieldBytes || request.thing_type.size() > kMaxThingFieldBytes ||
      request.thing_attributes.size() > kMaxThingAttributes)
    return MakeError(Code::kInvalidArgument, "THING_INVALID",
                     "thing_name and thing_type have at most 128 characters; at most 50 thing attributes");
  for (const auto& [key, value] : request.thing_attributes)
    if (key.size() > kMaxThingFieldBytes || value.size() > kMaxThingAttributeValueBytes)
      return MakeError(Code::kInvalidArgument, "THING_INVALID",
                       "thing attribute names have at most 128 characters and values at most 800");
  return {};
}

}  // namespace station::issuance
