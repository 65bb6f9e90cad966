#include "station/client/request_fields.h"

namespace station::client {
namespace {

// "k=v,k2=v2" into a map.
Result<std::map<std::string, std::string>> ParsePairs(const std::string& flag, const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    std::string pair = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      return base::UsageError("--" + flag + " takes NAME=VALUE pairs separated by commas, not '" + pair + "'");
    out[pair.substr(0, eq)] = pair.substr(eq + 1);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<RequestFields> RequestFieldsFromArgs(const base::Args& args) {
  RequestFields f;
  if (auto v = args.Get("attributes")) {
    ST_ASSIGN_OR_RETURN(f.attributes, ParsePairs("attributes", *v));
  }
  if (auto v = args.Get("thing-attributes")) {
    ST_ASSIGN_OR_RETURN(f.thing_attributes, ParsePairs("thing-attributes", *v));
  }
  f.thing_name = args.Get("thing-name", "");
  f.thing_type = args.Get("thing-type", "");
  return f;
}

void ApplyRequestFields(const RequestFields& fields, v1::SignRequest& request) {
  for (const auto& [k, v] : fields.attributes) (*request.mutable_attributes())[k] = v;
  for (const auto& [k, v] : fields.thing_attributes) (*request.mutable_thing_attributes())[k] = v;
  if (!fields.thing_name.empty()) request.set_thing_name(fields.thing_name);
  if (!fields.thing_type.empty()) request.set_thing_type(fields.thing_type);
}

}  // namespace station::client
