// Command-line parsing shared by station-server, stationctl and station-line:
// "--name value", "--name=value", boolean "--name", and positional words.
// Unknown flags are errors. There is deliberately no way to pass a PIN here.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "station/base/error.h"

namespace station::base {

class Args {
 public:
  // `value_flags` take a value; `bool_flags` do not. Names without "--".
  static Result<Args> Parse(int argc, char** argv, int first, const std::set<std::string>& value_flags,
                            const std::set<std::string>& bool_flags = {});

  std::optional<std::string> Get(const std::string& name) const;
  std::string Get(const std::string& name, const std::string& fallback) const;
  Result<std::string> Require(const std::string& name) const;
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  Result<long> Number(const std::string& name, long fallback, long min, long max) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

Error UsageError(const std::string& message);

}  // namespace station::base
