// Bytes, and the encodings the station writes them in: hex, Base64, SHA-256.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace station {

using Bytes = std::vector<uint8_t>;

// Lowercase hex of the bytes.
std::string Hex(const uint8_t* data, size_t len);
inline std::string Hex(const Bytes& b) { return Hex(b.data(), b.size()); }

// SHA-256 of the bytes.
Bytes Sha256(const uint8_t* data, size_t len);
inline Bytes Sha256(const Bytes& b) { return Sha256(b.data(), b.size()); }
inline Bytes Sha256(std::string_view s) {
  return Sha256(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Standard base64 (RFC 4648 4) with padding, no line breaks.
std::string Base64Encode(const uint8_t* data, size_t len);
inline std::string Base64Encode(const Bytes& b) { return Base64Encode(b.data(), b.size()); }
// Strict decoding: padding required, no whitespace; nullopt on anything else.
std::optional<Bytes> Base64Decode(std::string_view text);

// PEM (RFC 7468) of DER under `label` ("CERTIFICATE"), 64-character lines.
std::string PemEncode(std::string_view label, const Bytes& der);

}  // namespace station
