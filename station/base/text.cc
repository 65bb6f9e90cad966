#include "station/base/text.h"

#include <cstdio>

namespace station {

bool PrintableAscii(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

std::vector<std::string> SplitList(const std::string& text, char separator) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = text.find(separator, start)) != std::string::npos; start = end + 1)
    out.push_back(text.substr(start, end - start));
  out.push_back(text.substr(start));
  return out;
}

namespace {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629 4: no
// overlong forms, no surrogates, nothing past U+10FFFF), or 0.
size_t Utf8SequenceAt(const std::string& s, size_t i) {
  auto byte = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  auto tail = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xbf) { return byte(k) >= lo && byte(k) <= hi; };
  const unsigned c = byte(0);
  if (c >= 0xc2 && c <= 0xdf) return tail(1) ? 2 : 0;
  if (c == 0xe0) return tail(1, 0xa0) && tail(2) ? 3 : 0;
  if (c == 0xed) return tail(1, 0x80, 0x9f) && tail(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return tail(1) && tail(2) ? 3 : 0;
  if (c == 0xf0) return tail(1, 0x90) && tail(2) && tail(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return tail(1) && tail(2) && tail(3) ? 4 : 0;
  if (c == 0xf4) return tail(1, 0x80, 0x8f) && tail(2) && tail(3) ? 4 : 0;
  return 0;
}

void AppendU(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", c);
  out += buf;
}

}  // namespace

std::string JsonEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          AppendU(out, c);
        } else if (c < 0x80) {
          out.push_back(static_cast<char>(c));
        } else if (size_t n = Utf8SequenceAt(s, i); n > 0) {
          out.append(s, i, n);
          i += n - 1;
        } else {
          AppendU(out, c);  // not UTF-8: the byte as the code point of its value (Latin-1)
        }
    }
  }
  return out;
}

JsonFields& JsonFields::Field(const std::string& key, const std::string& json) {
  out_ += (out_.empty() ? "\"" : ",\"") + JsonEscape(key) + "\":" + json;
  return *this;
}
JsonFields& JsonFields::Str(const std::string& key, const std::string& value) {
  return Field(key, "\"" + JsonEscape(value) + "\"");
}
JsonFields& JsonFields::Num(const std::string& key, int64_t value) { return Field(key, std::to_string(value)); }
JsonFields& JsonFields::Bool(const std::string& key, bool value) { return Field(key, value ? "true" : "false"); }
JsonFields& JsonFields::Raw(const std::string& key, const std::string& json) { return Field(key, json); }
JsonFields& JsonFields::Strs(const std::string& key, const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  for (const std::string& v : values) quoted.push_back("\"" + JsonEscape(v) + "\"");
  return Field(key, JsonArray(quoted));
}

std::string JsonArray(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ",") + v;
  return "[" + out + "]";
}

std::string JsonObject(const std::map<std::string, std::string>& fields) {
  std::string out = "{";
  for (const auto& [key, value] : fields) {
    if (out.size() > 1) out += ",";
    out += "\"" + JsonEscape(key) + "\":\"" + JsonEscape(value) + "\"";
  }
  return out + "}";
}

namespace {

// A JSON string starting at text[i] (its opening quote), undoing JsonEscape;
// i ends after the closing quote.
std::optional<std::string> ReadJsonString(const std::string& text, size_t& i) {
  if (i >= text.size() || text[i] != '"') return std::nullopt;
  std::string out;
  for (++i; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      ++i;
      return out;
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= text.size()) return std::nullopt;
    switch (text[i]) {
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case '"': case '\\': case '/': out.push_back(text[i]); break;
      case 'u': {
        unsigned value = 0;
        if (i + 4 >= text.size() || std::sscanf(text.c_str() + i + 1, "%4x", &value) != 1 || value > 0xff)
          return std::nullopt;  // JsonEscape writes \u00XX only
        out.push_back(static_cast<char>(value));
        i += 4;
        break;
      }
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::map<std::string, std::string>> JsonObjectFields(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t i = 1;
  if (text.empty() || text[0] != '{') return std::nullopt;
  while (i < text.size() && text[i] != '}') {
    if (!out.empty() && text[i++] != ',') return std::nullopt;
    auto key = ReadJsonString(text, i);
    if (!key || i >= text.size() || text[i++] != ':') return std::nullopt;
    auto value = ReadJsonString(text, i);
    if (!value) return std::nullopt;
    out[*key] = *value;
  }
  if (i + 1 != text.size()) return std::nullopt;
  return out;
}

}  // namespace station
