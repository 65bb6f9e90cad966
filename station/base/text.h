// Checks and escapes of text that crosses a boundary: identifiers a line
// sends, and JSON strings the station writes.
#pragma once

#include <map>
#include <string>

namespace station {

// Every character of `s` is printable ASCII (0x20..0x7e): the rule for
// request ids, device ids, profile and lot names.
bool PrintableAscii(const std::string& s);

// JSON string escaping (RFC 8259 7).
std::string JsonEscape(const std::string& s);

// {"k":"v",...} in key order: the canonical form thing_attributes is stored in.
std::string JsonObject(const std::map<std::string, std::string>& fields);

}  // namespace station
