#include "station/audit/record.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "station/base/text.h"

namespace station::audit {
namespace {

void Put(std::string& out, const std::string& field) {
  uint64_t len = field.size();
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  out += field;
}

}  // namespace

const std::string kGenesisHash(64, '0');

namespace {
constexpr std::string_view kCanonicalTag = "station-audit-v2";
constexpr std::string_view kOfficerTag = "station-officer-v1";

std::string CanonicalOfficerRecord(const AuditRecord& r) {
  std::string buf(kOfficerTag);
  Put(buf, std::to_string(r.seq));
  Put(buf, std::to_string(r.time_unix_ms));
  Put(buf, r.request_id);
  Put(buf, r.caller);
  Put(buf, r.action);
  Put(buf, r.profile);
  Put(buf, r.device_id);
  Put(buf, r.issuer_key_id);
  Put(buf, r.detail);
  Put(buf, r.prev_hash);
  return buf;
}

}  // namespace

std::string CanonicalRecord(const AuditRecord& r) {
  if (r.kind == RecordKind::kOfficer) return CanonicalOfficerRecord(r);
  std::string buf(kCanonicalTag);
  Put(buf, std::to_string(r.seq));
  Put(buf, std::to_string(r.time_unix_ms));
  Put(buf, r.request_id);
  Put(buf, r.caller);
  Put(buf, r.device_id);
  Put(buf, r.profile);
  Put(buf, r.serial_hex);
  Put(buf, r.certificate_id);
  Put(buf, r.spki_sha256);
  Put(buf, r.subject);
  Put(buf, r.issuer_key_id);
  Put(buf, r.csr_sha256);
  Put(buf, r.thing_name);
  Put(buf, r.thing_type);
  Put(buf, r.thing_attributes);
  Put(buf, r.authorization);
  Put(buf, std::string(r.certificate_der.begin(), r.certificate_der.end()));
  Put(buf, r.prev_hash);
  return buf;
}

Result<AuditRecord> ParseCanonicalRecord(std::string_view data) {
  auto bad = [](const std::string& why) {
    return MakeError(Code::kInvalidArgument, "BAD_AUDIT_RECORD", "not a canonical audit record: " + why);
  };
  const bool officer = data.substr(0, kOfficerTag.size()) == kOfficerTag;
  if (!officer && data.substr(0, kCanonicalTag.size()) != kCanonicalTag) return bad("wrong version tag");
  data.remove_prefix(officer ? kOfficerTag.size() : kCanonicalTag.size());
  std::vector<std::string> fields;
  while (!data.empty()) {
    if (data.size() < 8) return bad("truncated length");
    uint64_t len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<uint8_t>(data[static_cast<size_t>(i)]);
    data.remove_prefix(8);
    if (len > data.size()) return bad("field longer than the record");
    fields.emplace_back(data.substr(0, len));
    data.remove_prefix(len);
  }
  const size_t expected = officer ? 10 : 18;
  if (fields.size() != expected)
    return bad("expected " + std::to_string(expected) + " fields, found " + std::to_string(fields.size()));
  AuditRecord r;
  // One encoding per record: decimal without leading zeros, within the field's type.
  auto number = [](const std::string& s, auto& out) {
    using T = std::remove_reference_t<decltype(out)>;
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    if (s.size() > 1 && s[0] == '0') return false;
    errno = 0;
    unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
    if (errno == ERANGE || v > static_cast<unsigned long long>(std::numeric_limits<T>::max())) return false;
    out = static_cast<T>(v);
    return true;
  };
  if (!number(fields[0], r.seq) || !number(fields[1], r.time_unix_ms)) return bad("seq or time is not a number");
  if (officer) {
    r.kind = RecordKind::kOfficer;
    std::string* text[] = {&r.request_id, &r.caller, &r.action, &r.profile, &r.device_id, &r.issuer_key_id, &r.detail,
                           &r.prev_hash};
    for (size_t i = 0; i < std::size(text); ++i) *text[i] = std::move(fields[2 + i]);
    r.record_hash = ComputeRecordHash(r);
    return r;
  }
  std::string* text[] = {&r.request_id,  &r.caller,     &r.device_id,       &r.profile,      &r.serial_hex,
                         &r.certificate_id, &r.spki_sha256, &r.subject,       &r.issuer_key_id, &r.csr_sha256,
                         &r.thing_name,  &r.thing_type, &r.thing_attributes, &r.authorization};
  for (size_t i = 0; i < std::size(text); ++i) *text[i] = std::move(fields[2 + i]);
  r.certificate_der.assign(fields[16].begin(), fields[16].end());
  r.prev_hash = std::move(fields[17]);
  r.record_hash = ComputeRecordHash(r);
  return r;
}

std::string ComputeRecordHash(const AuditRecord& r) { return Hex(Sha256(CanonicalRecord(r))); }

Hash RecordLeafHash(const AuditRecord& r) { return LeafHash(CanonicalRecord(r)); }

std::string RecordJson(const AuditRecord& r) {
  auto field = [](const char* name, const std::string& value) {
    return std::string("\"") + name + "\":\"" + JsonEscape(value) + "\"";
  };
  std::string out = "{\"seq\":" + std::to_string(r.seq) + ",\"time_unix_ms\":" + std::to_string(r.time_unix_ms);
  if (r.kind == RecordKind::kOfficer) {
    out += ",\"kind\":\"officer\"," + field("action_id", r.request_id);
    out += "," + field("officer", r.caller);
    out += "," + field("action", r.action);
    out += "," + field("profile", r.profile);
    out += "," + field("device_id", r.device_id);
    out += "," + field("issuer_key_id", r.issuer_key_id);
    out += ",\"detail\":" + (r.detail.empty() ? std::string("{}") : r.detail);
    out += "," + field("prev_hash", r.prev_hash);
    out += "," + field("record_hash", r.record_hash);
    return out + "}";
  }
  out += "," + field("request_id", r.request_id);
  out += "," + field("caller", r.caller);
  out += "," + field("device_id", r.device_id);
  out += "," + field("profile", r.profile);
  out += "," + field("serial_hex", r.serial_hex);
  out += "," + field("certificate_id", r.certificate_id);
  out += "," + field("spki_sha256", r.spki_sha256);
  out += "," + field("subject", r.subject);
  out += "," + field("issuer_key_id", r.issuer_key_id);
  out += "," + field("csr_sha256", r.csr_sha256);
  out += "," + field("thing_name", r.thing_name);
  out += "," + field("thing_type", r.thing_type);
  out += ",\"thing_attributes\":" + (r.thing_attributes.empty() ? std::string("{}") : r.thing_attributes);
  out += "," + field("authorization", r.authorization);
  out += "," + field("certificate_pem", PemEncode("CERTIFICATE", r.certificate_der));
  out += "," + field("prev_hash", r.prev_hash);
  out += "," + field("record_hash", r.record_hash);
  out += "}";
  return out;
}

}  // namespace station::audit
