// The optional SignRequest fields a line sets from its command line: profile
// attributes and the AWS IoT thing (name, type, attributes).
//   --attributes vendor_id=FFF1,product_id=8000 --thing-type sensor --thing-attributes batch=B1
#pragma once

#include <map>
#include <string>

#include "station/base/args.h"
#include "station/base/error.h"
#include "station/v1/station.pb.h"

namespace station::client {

struct RequestFields {
  std::map<std::string, std::string> attributes;
  std::string thing_name;
  std::string thing_type;
  std::map<std::string, std::string> thing_attributes;
};

Result<RequestFields> RequestFieldsFromArgs(const base::Args& args);

// Copies the fields into a request.
void ApplyRequestFields(const RequestFields& fields, v1::SignRequest& request);

}  // namespace station::client
