#include "station/base/toml_fields.h"

#include <filesystem>

#include "station/base/duration.h"
#include "station/base/files.h"

namespace station::base {

namespace fs = std::filesystem;

constexpr size_t kMaxTomlBytes = 1 << 20;

Error ConfigError(const std::string& file, const std::string& field, const std::string& why,
                  const std::string& reason) {
  return MakeError(Code::kFailedPrecondition, reason, file + ": " + field + ": " + why);
}

Result<toml::table> ParseToml(const std::string& path, const std::string& reason) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return MakeError(Code::kFailedPrecondition, reason, path + ": no such file");
  if (fs::file_size(path, ec) > kMaxTomlBytes)
    return MakeError(Code::kFailedPrecondition, reason, path + ": larger than 1 MiB");
  auto text = base::ReadFile(path, kMaxTomlBytes);
  if (!text.ok()) return MakeError(Code::kFailedPrecondition, reason, text.error().message);
  return ParseTomlText(*text, path, reason);
}

Result<toml::table> ParseTomlText(std::string_view text, const std::string& path, const std::string& reason) {
  if (text.size() > kMaxTomlBytes) return MakeError(Code::kFailedPrecondition, reason, path + ": larger than 1 MiB");
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return MakeError(Code::kFailedPrecondition, reason,
                     path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " +
                         std::string(e.description()));
  }
}

Status Fields::String(const char* key, std::string& out, bool required) {
  seen_.insert(key);
  const toml::node* node = table_.get(key);
  if (node == nullptr) return required ? Missing(key) : Status();
  auto v = node->value<std::string>();
  if (!v) return Wrong(key, "must be a string");
  out = *v;
  return {};
}

Status Fields::Path(const char* key, std::string& out, bool required) {
  ST_RETURN_IF_ERROR(String(key, out, required));
  if (!out.empty() && out[0] != '/') out = fs::absolute(fs::path(file_).parent_path() / out).lexically_normal().string();
  return {};
}

Status Fields::Bool(const char* key, bool& out) {
  seen_.insert(key);
  const toml::node* node = table_.get(key);
  if (node == nullptr) return {};
  auto v = node->value<bool>();
  if (!v) return Wrong(key, "must be true or false");
  out = *v;
  return {};
}

Status Fields::Duration(const char* key, int64_t& seconds, int64_t min_s, int64_t max_s) {
  std::string text;
  ST_RETURN_IF_ERROR(String(key, text));
  if (text.empty() && !Present(key)) return {};
  auto parsed = base::ParseDuration(text);
  if (!parsed.ok() || *parsed < min_s || *parsed > max_s)
    return Wrong(key, "must be a duration from " + base::FormatDuration(min_s) + " to " +
                          base::FormatDuration(max_s) + ", like \"" + base::FormatDuration(seconds) + "\"");
  seconds = *parsed;
  return {};
}

Status Fields::StringList(const char* key, std::vector<std::string>& out) {
  seen_.insert(key);
  const toml::node* node = table_.get(key);
  if (node == nullptr) return {};
  const toml::array* array = node->as_array();
  if (array == nullptr) return Wrong(key, "must be a list of strings, e.g. [\"a\", \"b\"]");
  out.clear();
  for (const toml::node& item : *array) {
    auto v = item.value<std::string>();
    if (!v) return Wrong(key, "must be a list of strings, e.g. [\"a\", \"b\"]");
    out.push_back(*v);
  }
  return {};
}

const toml::table* Fields::Table(const char* key) {
  seen_.insert(key);
  return table_.get_as<toml::table>(key);
}

Result<std::vector<const toml::table*>> Fields::TableArray(const char* key) {
  seen_.insert(key);
  std::vector<const toml::table*> out;
  const toml::node* node = table_.get(key);
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) return Wrong(key, std::string("must be a list of [[") + Name(key) + "]] sections");
  for (const toml::node& item : *array) {
    const toml::table* t = item.as_table();
    if (t == nullptr) return Wrong(key, std::string("must be a list of [[") + Name(key) + "]] sections");
    out.push_back(t);
  }
  return out;
}

Status Fields::NoUnknownKeys() const {
  for (const auto& [key, node] : table_) {
    if (!seen_.count(std::string(key.str())))
      return ConfigError(file_, Name(std::string(key.str())), "unknown setting", reason_);
  }
  return {};
}

Error Fields::Missing(const char* key) const { return ConfigError(file_, Name(key), "is required", reason_); }
Error Fields::Wrong(const std::string& key, const std::string& why) const {
  return ConfigError(file_, Name(key), why, reason_);
}

}  // namespace station::base
