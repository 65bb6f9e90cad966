// Reading TOML files the same way everywhere (station config, line config,
// issuance profiles): bounded size, parse errors with line and column, typed
// fields named by their dotted path, and unknown keys refused so that a typo
// never silently becomes a default.
#pragma once

#include <toml++/toml.h>

#include <set>
#include <string>
#include <vector>

#include "station/base/error.h"

namespace station::base {

// FAILED_PRECONDITION with `reason` (BAD_CONFIG, BAD_PROFILE): "FILE: FIELD: why".
Error ConfigError(const std::string& file, const std::string& field, const std::string& why,
                  const std::string& reason = "BAD_CONFIG");

// Parses a TOML file of at most 1 MiB.
Result<toml::table> ParseToml(const std::string& path, const std::string& reason = "BAD_CONFIG");
// The same from text; `path` names it in errors (and relative paths in it
// are taken from its directory). The fuzzers start here.
Result<toml::table> ParseTomlText(std::string_view text, const std::string& path,
                                  const std::string& reason = "BAD_CONFIG");

// Typed access to one table, remembering the keys it was asked about.
class Fields {
 public:
  Fields(const toml::table& table, std::string file, std::string prefix, std::string reason = "BAD_CONFIG")
      : table_(table), file_(std::move(file)), prefix_(std::move(prefix)), reason_(std::move(reason)) {}

  Status String(const char* key, std::string& out, bool required = false);
  // A path; relative ones are made absolute against the file's directory.
  Status Path(const char* key, std::string& out, bool required = false);
  Status Bool(const char* key, bool& out);
  // A duration string ("90s", "5m", "1h") in seconds, from min_s to max_s;
  // `seconds` keeps its value (the default) when the key is absent.
  Status Duration(const char* key, int64_t& seconds, int64_t min_s, int64_t max_s);
  Status StringList(const char* key, std::vector<std::string>& out);

  template <typename N>
  Status Number(const char* key, N& out, long long min, long long max) {
    seen_.insert(key);
    const toml::node* node = table_.get(key);
    if (node == nullptr) return {};
    // value_exact: an integer node only. value<int64_t>() converts a float, and toml++
    // casts one out of range (1e24) to int64_t, which is undefined (the config fuzzer found it).
    auto v = node->value_exact<int64_t>();
    if (!v) return Wrong(key, "must be an integer");
    if (*v < min || *v > max)
      return Wrong(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = static_cast<N>(*v);
    return {};
  }

  const toml::table* Table(const char* key);
  // An array of tables ([[key]] sections); empty when absent. Error when not one.
  Result<std::vector<const toml::table*>> TableArray(const char* key);
  bool Present(const char* key) const { return table_.get(key) != nullptr; }

  Status NoUnknownKeys() const;
  Error Missing(const char* key) const;
  Error Wrong(const std::string& key, const std::string& why) const;
  // The dotted name of a key of this table, for messages.
  std::string Name(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  const std::string& file() const { return file_; }

 private:
  const toml::table& table_;
  std::string file_;
  std::string prefix_;
  std::string reason_;
  std::set<std::string> seen_;
};

}  // namespace station::base
