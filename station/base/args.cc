#include "station/base/args.h"

#include <charconv>

namespace station::base {

Error UsageError(const std::string& message) {
  return MakeError(Code::kInvalidArgument, "USAGE", message);
}

Result<Args> Args::Parse(int argc, char** argv, int first, const std::set<std::string>& value_flags,
                         const std::set<std::string>& bool_flags) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) != 0 || word == "--") {
      args.positional_.push_back(word);
      continue;
    }
    std::string name = word.substr(2), value;
    bool inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (name.find("pin") != std::string::npos && name != "pin-file" && name != "pin-env" && name != "pin-credential")
      return UsageError("--" + name + ": PINs are never taken on the command line; use a PIN file (mode 0600), "
                        "an environment variable or a systemd credential");
    if (bool_flags.count(name)) {
      if (inline_value) return UsageError("--" + name + " takes no value");
      args.values_[name] = "true";
    } else if (value_flags.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argc) return UsageError("--" + name + " needs a value");
        value = argv[++i];
      }
      args.values_[name] = value;
    } else {
      return UsageError("unknown option --" + name);
    }
  }
  return args;
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  return Get(name).value_or(fallback);
}

Result<std::string> Args::Require(const std::string& name) const {
  auto v = Get(name);
  if (!v || v->empty()) return UsageError("--" + name + " is required");
  return *v;
}

Result<long> Args::Number(const std::string& name, long fallback, long min, long max) const {
  auto v = Get(name);
  if (!v) return fallback;
  long n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max)
    return UsageError("--" + name + " must be a number from " + std::to_string(min) + " to " + std::to_string(max));
  return n;
}

}  // namespace station::base
