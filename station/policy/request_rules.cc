#include "station/policy/request_rules.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "station/base/text.h"

namespace station::policy {
namespace {

// AWS IoT limits (developer guide, "Thing limits"): names and types 1-128 of
// [a-zA-Z0-9:_-]; attribute names 1-128 of [a-zA-Z0-9_.,@/:#-]; values up to 800
// of [a-zA-Z0-9_.,@/:#=\[\]-]; 50 attributes with a thing type, 3 without.
constexpr size_t kMaxThingName = 128;
constexpr size_t kMaxThingAttributeValue = 800;
constexpr size_t kMaxThingAttributesTyped = 50;
constexpr size_t kMaxThingAttributesUntyped = 3;

bool AllOf(const std::string& s, const char* extra) {
  return std::all_of(s.begin(), s.end(), [extra](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || (c != 0 && std::strchr(extra, c) != nullptr);
  });
}

bool ValidThingName(const std::string& s) { return !s.empty() && s.size() <= kMaxThingName && AllOf(s, ":_-"); }

Error Invalid(const char* reason, const std::string& message) {
  return MakeError(Code::kInvalidArgument, reason, message);
}

bool Matches(const std::optional<Pattern>& pattern, const std::string& value) {
  return !pattern || pattern->FullMatch(value);
}

Status CheckThing(const Profile& profile, const RequestFacts& facts) {
  const ThingRules& rules = profile.thing;
  if (!facts.thing_name.empty() && !ValidThingName(facts.thing_name))
    return Invalid("THING_NAME_INVALID", "thing_name must be 1 to 128 of a-z A-Z 0-9 : _ - (AWS IoT's rule)");
  std::string name = EffectiveThingName(facts);
  if (name.empty() && rules.required)
    return Invalid("THING_NAME_REQUIRED", "profile '" + profile.name + "' needs an AWS IoT thing name: send "
                                          "thing_name, or a device_id that is a valid thing name");
  if (!name.empty() && !Matches(rules.name_pattern, name))
    return Invalid("THING_NAME_INVALID", "thing name '" + name + "' does not match profile '" + profile.name +
                                             "' (pattern " + rules.name_pattern_text + ")");
  if (facts.thing_type.empty()) {
    if (rules.type_required) return Invalid("THING_TYPE_INVALID", "profile '" + profile.name + "' needs a thing_type");
  } else {
    if (!ValidThingName(facts.thing_type))
      return Invalid("THING_TYPE_INVALID", "thing_type must be 1 to 128 of a-z A-Z 0-9 : _ -");
    if (!rules.types.empty() && std::find(rules.types.begin(), rules.types.end(), facts.thing_type) == rules.types.end())
      return Invalid("THING_TYPE_INVALID", "thing type '" + facts.thing_type + "' is not allowed by profile '" +
                                               profile.name + "'");
  }
  size_t max = facts.thing_type.empty() ? kMaxThingAttributesUntyped : kMaxThingAttributesTyped;
  if (facts.thing_attributes.size() > max)
    return Invalid("THING_ATTRIBUTE_INVALID", "at most " + std::to_string(max) + " thing attributes " +
                                                  (facts.thing_type.empty() ? "without a thing type" : "with a thing type"));
  for (const auto& [key, value] : facts.thing_attributes) {
    if (key.empty() || key.size() > kMaxThingName || !AllOf(key, "_.,@/:#-"))
      return Invalid("THING_ATTRIBUTE_INVALID", "thing attribute names are 1 to 128 of a-z A-Z 0-9 _ . , @ / : # -");
    if (!rules.attributes.count("*") && !rules.attributes.count(key))
      return Invalid("THING_ATTRIBUTE_INVALID", "thing attribute '" + key + "' is not allowed by profile '" +
                                                    profile.name + "'");
    if (value.size() > kMaxThingAttributeValue || !AllOf(value, "_.,@/:#=[]-"))
      return Invalid("THING_ATTRIBUTE_INVALID", "thing attribute '" + key +
                                                    "' must be at most 800 of a-z A-Z 0-9 _ . , @ / : # = [ ] -");
  }
  return {};
}

}  // namespace

bool ValidDeviceId(const std::string& id) {
  return !id.empty() && id.size() <= kMaxDeviceIdBytes && PrintableAscii(id);
}

std::string EffectiveThingName(const RequestFacts& facts) {
  if (!facts.thing_name.empty()) return facts.thing_name;
  return ValidThingName(facts.device_id) ? facts.device_id : std::string();
}

Status CheckLine(const std::string& profile_name, const LineSet& lines, const std::string& caller) {
  if (AllowsLine(lines, caller)) return {};
  return MakeError(Code::kPermissionDenied, "PROFILE_NOT_ALLOWED",
                   "line '" + caller + "' may not use profile '" + profile_name + "'");
}

std::string LineSetProblem(const LineSet& lines) {
  if (lines.empty() || lines.size() > kMaxLines)
    return "name 1 to " + std::to_string(kMaxLines) + " line identities, or \"*\" for every line";
  for (const std::string& line : lines) {
    bool control = std::any_of(line.begin(), line.end(),
                               [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
    if (line.empty() || line.size() > kMaxLineIdentityBytes || control)
      return "line identities have 1 to " + std::to_string(kMaxLineIdentityBytes) + " characters, none a control character";
  }
  return "";
}

Status CheckRequest(const Profile& profile, const RequestFacts& facts) {
  if (facts.device_id.empty()) {
    if (profile.device_id_required)
      return Invalid("DEVICE_ID_REQUIRED", "profile '" + profile.name + "' needs a device_id");
  } else if (!Matches(profile.device_id_pattern, facts.device_id)) {
    return Invalid("DEVICE_ID_INVALID", "device_id '" + facts.device_id + "' does not match profile '" +
                                            profile.name + "' (pattern " + profile.device_id_pattern_text + ")");
  }
  for (const auto& [name, value] : facts.attributes) {
    auto rule = profile.attributes.find(name);
    if (rule == profile.attributes.end())
      return Invalid("ATTRIBUTE_NOT_ALLOWED", "profile '" + profile.name + "' does not take attribute '" +
                                                  name.substr(0, 64) + "'");
    if (!Matches(rule->second.pattern, value))
      return Invalid("ATTRIBUTE_INVALID", "attribute '" + name + "' does not match profile '" + profile.name +
                                              "' (pattern " + rule->second.pattern_text + ")");
  }
  for (const auto& [name, rule] : profile.attributes)
    if (rule.required && facts.attributes.count(name) == 0)
      return Invalid("ATTRIBUTE_MISSING", "profile '" + profile.name + "' needs attribute '" + name + "'");
  return CheckThing(profile, facts);
}

Status CheckKeyType(const Profile& profile, const std::string& key_type) {
  if (key_type.rfind("rsa-", 0) == 0) {
    int bits = std::atoi(key_type.c_str() + 4);
    if (!profile.key_algorithms.count("rsa"))
      return Invalid("KEY_NOT_ALLOWED", "profile '" + profile.name + "' does not accept RSA device keys");
    if (bits < profile.rsa_min_bits)
      return Invalid("RSA_TOO_SHORT", "the CSR's RSA key has " + std::to_string(bits) + " bits; profile '" +
                                          profile.name + "' needs at least " + std::to_string(profile.rsa_min_bits));
    if (bits > profile.rsa_max_bits)
      return Invalid("KEY_NOT_ALLOWED", "the CSR's RSA key has " + std::to_string(bits) + " bits; profile '" +
                                            profile.name + "' accepts at most " + std::to_string(profile.rsa_max_bits));
    return {};
  }
  if (!profile.key_algorithms.count(key_type))
    return Invalid("KEY_NOT_ALLOWED", "profile '" + profile.name + "' does not accept " + key_type + " device keys");
  return {};
}

}  // namespace station::policy
