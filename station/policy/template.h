// Value templates in profiles: literal text with placeholders filled from the
// request, parsed once when the profile loads.
//
//   "{device_id}"            the request's device_id
//   "{thing_name}"           the AWS IoT thing name (the request's, else device_id)
//   "{thing_type}"           the request's thing type
//   "{attr.NAME}"            the request attribute NAME
//   "urn:dev:{device_id}"    literal text around placeholders
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "station/base/error.h"

namespace station::policy {

// What a template is filled from.
struct TemplateInput {
  const std::string& device_id;
  const std::string& thing_name;
  const std::string& thing_type;
  const std::map<std::string, std::string>& attributes;
};

class Template {
 public:
  Template() = default;

  // Refuses unknown placeholders and unbalanced braces (INVALID_ARGUMENT, TEMPLATE_INVALID).
  static Result<Template> Parse(const std::string& text);

  // The filled-in text, or nullopt when a placeholder has no value (an empty
  // device_id, an absent attribute). `missing` then names the first one.
  std::optional<std::string> Render(const TemplateInput& input, std::string* missing = nullptr) const;

  const std::string& text() const noexcept { return text_; }
  bool empty() const noexcept { return text_.empty(); }
  bool constant() const noexcept;  // no placeholders
  // The attribute names the template reads ("{attr.vid}" -> "vid").
  std::vector<std::string> attributes() const;

 private:
  enum class Kind { kLiteral, kDeviceId, kThingName, kThingType, kAttribute };
  struct Part {
    Kind kind;
    std::string text;  // the literal, or the attribute name
  };
  std::string text_;
  std::vector<Part> parts_;
};

}  // namespace station::policy
