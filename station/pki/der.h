// Just enough DER (X.690) to read a PKCS#10 request and write a certificate
// without OpenSSL's object round trips: in OpenSSL 3.0 every parse or set of a
// public key goes through its decoder/encoder framework, which cost more than
// half the station's CPU per certificate (bench/README.md, "Where the time goes").
//
// The reader is strict: definite lengths in their shortest form, low tag
// numbers only, nothing past the end of an element.
#pragma once

#include <cstdint>
#include <span>

#include "station/base/ossl.h"

namespace station::pki::der {

inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kNull = 0x05;
inline constexpr uint8_t kOid = 0x06;
inline constexpr uint8_t kSequence = 0x30;
inline constexpr uint8_t kSet = 0x31;
inline constexpr uint8_t Context(int n, bool constructed = true) {
  return static_cast<uint8_t>(0x80 | (constructed ? 0x20 : 0) | n);
}

using View = std::span<const uint8_t>;

struct Element {
  uint8_t tag = 0;
  View whole;    // tag, length and content
  View content;
};

// Reads the element at the front of `in` and moves `in` past it; false when
// `in` does not start with a well-formed element.
bool Read(View& in, Element& out);
// Reads an element that must have `tag`.
bool Read(View& in, uint8_t tag, Element& out);

// A BIT STRING's bits when it has no unused bits (keys and signatures).
bool WholeBytes(const Element& bit_string, View& out);

// Tag, length and content.
void Append(Bytes& out, uint8_t tag, View content);
Bytes Encode(uint8_t tag, View content);
// A BIT STRING of whole bytes.
Bytes BitString(View bytes);

}  // namespace station::pki::der
