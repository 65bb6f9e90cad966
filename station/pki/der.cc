#include "station/pki/der.h"

namespace station::pki::der {

bool Read(View& in, Element& out) {
  if (in.size() < 2) return false;
  const uint8_t tag = in[0];
  if ((tag & 0x1f) == 0x1f) return false;  // high tag numbers: not in the structures we read
  size_t len = in[1];
  size_t header = 2;
  if (len & 0x80) {
    const size_t octets = len & 0x7f;
    if (octets == 0 || octets > 4 || in.size() < 2 + octets) return false;  // indefinite, or over 4 GiB
    len = 0;
    for (size_t i = 0; i < octets; ++i) len = (len << 8) | in[2 + i];
    // DER: the shortest form (no leading zero octet; long form only from 128).
    if (in[2] == 0 || len < 128) return false;
    header += octets;
  }
  if (in.size() - header < len) return false;
  out.tag = tag;
  out.whole = in.subspan(0, header + len);
  out.content = in.subspan(header, len);
  in = in.subspan(header + len);
  return true;
}

bool Read(View& in, uint8_t tag, Element& out) { return !in.empty() && in[0] == tag && Read(in, out); }

bool WholeBytes(const Element& bit_string, View& out) {
  if (bit_string.tag != kBitString || bit_string.content.empty() || bit_string.content[0] != 0) return false;
  out = bit_string.content.subspan(1);
  return true;
}

void Append(Bytes& out, uint8_t tag, View content) {
  out.push_back(tag);
  const size_t len = content.size();
  if (len < 128) {
    out.push_back(static_cast<uint8_t>(len));
  } else {
    int octets = 0;
    for (size_t v = len; v > 0; v >>= 8) ++octets;
    out.push_back(static_cast<uint8_t>(0x80 | octets));
    for (int i = octets - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(len >> (8 * i)));
  }
  out.insert(out.end(), content.begin(), content.end());
}

Bytes Encode(uint8_t tag, View content) {
  Bytes out;
  out.reserve(content.size() + 6);
  Append(out, tag, content);
  return out;
}

Bytes BitString(View bytes) {
  Bytes content;
  content.reserve(bytes.size() + 1);
  content.push_back(0);
  content.insert(content.end(), bytes.begin(), bytes.end());
  return Encode(kBitString, content);
}

}  // namespace station::pki::der
