#include "station/policy/template.h"

namespace station::policy {

Result<Template> Template::Parse(const std::string& text) {
  Template t;
  t.text_ = text;
  auto bad = [&](const std::string& why) {
    return MakeError(Code::kInvalidArgument, "TEMPLATE_INVALID", "'" + text + "': " + why);
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    size_t close_stray = text.find('}', pos);
    if (close_stray < open) return bad("'}' without '{'");
    if (open == std::string::npos) {
      t.parts_.push_back({Kind::kLiteral, text.substr(pos)});
      break;
    }
    if (open > pos) t.parts_.push_back({Kind::kLiteral, text.substr(pos, open - pos)});
    size_t close = text.find('}', open);
    if (close == std::string::npos) return bad("'{' without '}'");
    std::string name = text.substr(open + 1, close - open - 1);
    if (name == "device_id") {
      t.parts_.push_back({Kind::kDeviceId, ""});
    } else if (name == "thing_name") {
      t.parts_.push_back({Kind::kThingName, ""});
    } else if (name == "thing_type") {
      t.parts_.push_back({Kind::kThingType, ""});
    } else if (name.rfind("attr.", 0) == 0 && name.size() > 5) {
      t.parts_.push_back({Kind::kAttribute, name.substr(5)});
    } else {
      return bad("unknown placeholder {" + name + "} (known: {device_id}, {thing_name}, {thing_type}, {attr.NAME})");
    }
    pos = close + 1;
  }
  return t;
}

std::optional<std::string> Template::Render(const TemplateInput& input, std::string* missing) const {
  std::string out;
  for (const Part& part : parts_) {
    const std::string* value = nullptr;
    std::string name;
    switch (part.kind) {
      case Kind::kLiteral:
        out += part.text;
        continue;
      case Kind::kDeviceId:
        value = &input.device_id, name = "device_id";
        break;
      case Kind::kThingName:
        value = &input.thing_name, name = "thing_name";
        break;
      case Kind::kThingType:
        value = &input.thing_type, name = "thing_type";
        break;
      case Kind::kAttribute: {
        auto it = input.attributes.find(part.text);
        if (it != input.attributes.end()) value = &it->second;
        name = "attributes[\"" + part.text + "\"]";
        break;
      }
    }
    if (value == nullptr || value->empty()) {
      if (missing) *missing = name;
      return std::nullopt;
    }
    out += *value;
  }
  return out;
}

bool Template::constant() const noexcept {
  for (const Part& part : parts_)
    if (part.kind != Kind::kLiteral) return false;
  return true;
}

std::vector<std::string> Template::attributes() const {
  std::vector<std::string> out;
  for (const Part& part : parts_)
    if (part.kind == Kind::kAttribute) out.push_back(part.text);
  return out;
}

}  // namespace station::policy
