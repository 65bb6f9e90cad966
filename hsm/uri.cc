#include "hsm/uri.h"

#include <cctype>
#include <charconv>

namespace station::hsm {
namespace {

constexpr size_t kMaxUriLength = 4096;

Error UriError(std::string_view uri, const std::string& why) {
  return MakeError(Code::kInvalidArgument, "BAD_PKCS11_URI",
                   "PKCS#11 URI '" + std::string(uri) + "': " + why);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 7512 2.3: values are percent-encoded octet strings.
std::optional<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string PercentEncode(std::string_view in) {
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ' ') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += Hex(&c, 1);
    }
  }
  return out;
}

}  // namespace

Result<Pkcs11Uri> ParsePkcs11Uri(std::string_view text) {
  if (text.size() > kMaxUriLength) return UriError(text.substr(0, 64), "longer than 4096 characters");
  constexpr std::string_view kScheme = "pkcs11:";
  if (text.substr(0, kScheme.size()) != kScheme) return UriError(text, "must start with 'pkcs11:'");
  std::string_view rest = text.substr(kScheme.size());
  std::string_view path = rest, query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
  }
  Pkcs11Uri uri;
  while (!path.empty()) {
    size_t semi = path.find(';');
    std::string_view attr = path.substr(0, semi);
    path = semi == std::string_view::npos ? std::string_view() : path.substr(semi + 1);
    if (attr.empty()) continue;
    size_t eq = attr.find('=');
    if (eq == std::string_view::npos) return UriError(text, "attribute '" + std::string(attr) + "' has no '='");
    std::string_view name = attr.substr(0, eq);
    auto value = PercentDecode(attr.substr(eq + 1));
    if (!value) return UriError(text, "bad percent-encoding in '" + std::string(name) + "'");
    if (name == "token") uri.token = *value;
    else if (name == "manufacturer") uri.manufacturer = *value;
    else if (name == "serial") uri.serial = *value;
    else if (name == "model") uri.model = *value;
    else if (name == "object") uri.object = *value;
    else if (name == "id") uri.id.assign(value->begin(), value->end());
    else if (name == "type") {
      if (*value != "private" && *value != "public" && *value != "cert" && *value != "secret-key" &&
          *value != "data")
        return UriError(text, "unknown type '" + *value + "'");
      uri.type = *value;
    } else if (name == "slot-id") {
      unsigned long slot = 0;
      auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), slot);
      if (ec != std::errc() || p != value->data() + value->size())
        return UriError(text, "slot-id '" + *value + "' is not a number");
      uri.slot_id = slot;
    } else if (name == "library-manufacturer" || name == "library-description" ||
               name == "library-version" || name == "slot-description" ||
               name == "slot-manufacturer") {
      // Module and slot descriptions: we load one module by path, so these
      // cannot narrow anything further.
    } else {
      return UriError(text, "unknown attribute '" + std::string(name) + "'");
    }
  }
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view attr = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = attr.find('=');
    std::string_view name = attr.substr(0, eq);
    if (name == "pin-value")
      return UriError("pkcs11:...", "a PIN must not be written into a URI; use a PIN file, "
                                    "an environment variable or a systemd credential");
    if (name == "module-path" && eq != std::string_view::npos) {
      auto value = PercentDecode(attr.substr(eq + 1));
      if (!value) return UriError(text, "bad percent-encoding in module-path");
      uri.module_path = *value;
    }
  }
  return uri;
}

std::string Pkcs11Uri::ToString() const {
  std::string out = "pkcs11:";
  auto add = [&out](const char* name, const std::string& value) {
    if (value.empty()) return;
    if (out.back() != ':') out += ';';
    out += name;
    out += '=';
    out += PercentEncode(value);
  };
  add("token", token);
  add("manufacturer", manufacturer);
  add("serial", serial);
  add("model", model);
  add("object", object);
  if (!id.empty()) {
    if (out.back() != ':') out += ';';
    out += "id=";
    for (uint8_t b : id) out += "%" + Hex(&b, 1);
  }
  add("type", type);
  if (slot_id) add("slot-id", std::to_string(*slot_id));
  return out;
}

Pkcs11Uri PrivateKeyUri(const std::string& token_label, const std::string& key_label) {
  Pkcs11Uri uri;
  uri.token = token_label;
  uri.object = key_label;
  uri.type = "private";
  return uri;
}

}  // namespace station::hsm
