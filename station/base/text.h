// Checks and escapes of text that crosses a boundary: identifiers a line
// sends, and JSON strings the station writes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace station {

// Every character of `s` is printable ASCII (0x20..0x7e): the rule for
// request ids, device ids, profile and lot names.
bool PrintableAscii(const std::string& s);

// "a,b,c" as its items ("" gives one empty item: a caller's check names it).
std::vector<std::string> SplitList(const std::string& text, char separator = ',');

// JSON string escaping (RFC 8259 7). Well-formed UTF-8 passes through; a byte
// that is not part of it is written as \u00XX, so the text is valid JSON
// whatever the bytes (and JsonObjectFields reads the same bytes back).
std::string JsonEscape(const std::string& s);

// A JSON object written field by field, in the order given: what the CLI's
// --format json prints for machines (a factory's MES).
class JsonFields {
 public:
  JsonFields& Str(const std::string& key, const std::string& value);
  JsonFields& Num(const std::string& key, int64_t value);
  JsonFields& Bool(const std::string& key, bool value);
  JsonFields& Strs(const std::string& key, const std::vector<std::string>& values);
  JsonFields& Raw(const std::string& key, const std::string& json);  // a value already JSON
  std::string str() const { return "{" + out_ + "}"; }

 private:
  JsonFields& Field(const std::string& key, const std::string& json);
  std::string out_;
};
// "[a,b,...]" of JSON values.
std::string JsonArray(const std::vector<std::string>& values);

// {"k":"v",...} in key order: the canonical form thing_attributes is stored in.
std::string JsonObject(const std::map<std::string, std::string>& fields);
// The fields of a JsonObject text; nullopt if `text` is not of that form.
std::optional<std::map<std::string, std::string>> JsonObjectFields(const std::string& text);

}  // namespace station
