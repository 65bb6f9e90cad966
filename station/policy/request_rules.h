// A request held against its profile: may this line use it, are the device
// id, attributes and AWS IoT thing fields what the profile allows, and is the
// device key of an allowed kind. No I/O here; authorization against lots,
// codes and earlier issuances is in registry/.
#pragma once

#include <map>
#include <string>

#include "station/policy/profile.h"

namespace station::policy {

// The parts of a request the rules look at.
struct RequestFacts {
  const std::string& caller;  // the line's identity
  const std::string& device_id;
  const std::map<std::string, std::string>& attributes;
  const std::string& thing_name;  // as sent; may be empty
  const std::string& thing_type;
  const std::map<std::string, std::string>& thing_attributes;
};

// PERMISSION_DENIED PROFILE_NOT_ALLOWED unless `lines` (the profile's, as
// they hold now) let `caller` use profile `profile_name`.
Status CheckLine(const std::string& profile_name, const LineSet& lines, const std::string& caller);

// "" when `lines` may be a profile's line set (1 to kMaxLines identities of 1
// to kMaxLineIdentityBytes, no control characters), else what is wrong.
std::string LineSetProblem(const LineSet& lines);

// INVALID_ARGUMENT DEVICE_ID_REQUIRED, DEVICE_ID_INVALID, ATTRIBUTE_MISSING,
// ATTRIBUTE_INVALID, ATTRIBUTE_NOT_ALLOWED, THING_NAME_REQUIRED,
// THING_NAME_INVALID, THING_TYPE_INVALID, THING_ATTRIBUTE_INVALID otherwise.
Status CheckRequest(const Profile& profile, const RequestFacts& facts);

// The AWS IoT thing name the issuance records: the request's thing_name, else
// the device_id when it is a valid thing name, else "".
std::string EffectiveThingName(const RequestFacts& facts);

// INVALID_ARGUMENT KEY_NOT_ALLOWED or RSA_TOO_SHORT when the device key
// ("ec-p256", "ec-p384", "rsa-<bits>") is not one the profile accepts.
Status CheckKeyType(const Profile& profile, const std::string& key_type);

}  // namespace station::policy
