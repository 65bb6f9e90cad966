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

std::string_view TagOf(RecordKind kind) { return kind == RecordKind::kOfficer ? kOfficerTag : kCanonicalTag; }

}  // namespace

std::string CanonicalRecord(const AuditRecord& r) {
  std::string buf(TagOf(r.kind));
  for (const store::RecordField& field : store::RecordFields(r.kind))
    if (field.hashed) Put(buf, store::FieldText(r, field));
  return buf;
}

Result<AuditRecord> ParseCanonicalRecord(std::string_view data) {
  auto bad = [](const std::string& why) {
    return MakeError(Code::kDataLoss, "BAD_AUDIT_RECORD", "not a canonical audit record: " + why);
  };
  AuditRecord r;
  if (data.substr(0, kOfficerTag.size()) == kOfficerTag) {
    r.kind = RecordKind::kOfficer;
  } else if (data.substr(0, kCanonicalTag.size()) != kCanonicalTag) {
    return bad("wrong version tag");
  }
  data.remove_prefix(TagOf(r.kind).size());
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
  size_t expected = 0;
  for (const store::RecordField& field : store::RecordFields(r.kind)) expected += field.hashed ? 1 : 0;
  if (fields.size() != expected)
    return bad("expected " + std::to_string(expected) + " fields, found " + std::to_string(fields.size()));
  size_t i = 0;
  for (const store::RecordField& field : store::RecordFields(r.kind)) {
    if (!field.hashed) continue;
    // One encoding per record: numbers in decimal without leading zeros, within their type.
    if (!store::SetFieldText(r, field, std::move(fields[i++]))) return bad("seq or time is not a number");
  }
  r.record_hash = ComputeRecordHash(r);
  return r;
}

std::string ComputeRecordHash(const AuditRecord& r) { return Hex(Sha256(CanonicalRecord(r))); }

Hash RecordLeafHash(const AuditRecord& r) { return LeafHash(CanonicalRecord(r)); }

std::string RecordJson(const AuditRecord& r) {
  std::string out = "{";
  for (const store::RecordField& field : store::RecordFields(r.kind)) {
    out += (out.size() > 1 ? ",\"" : "\"") + std::string(field.name) + "\":";
    switch (field.type) {
      case store::FieldType::kSeq:
      case store::FieldType::kTime: out += store::FieldText(r, field); break;
      case store::FieldType::kJsonObject: out += (r.*field.text).empty() ? "{}" : r.*field.text; break;
      case store::FieldType::kCertificate:
        out += "\"" + JsonEscape(PemEncode("CERTIFICATE", r.certificate_der)) + "\"";
        break;
      case store::FieldType::kText: out += "\"" + JsonEscape(r.*field.text) + "\""; break;
    }
    // An officer record says so right after its time.
    if (r.kind == RecordKind::kOfficer && field.type == store::FieldType::kTime) out += ",\"kind\":\"officer\"";
  }
  return out + "}";
}

}  // namespace station::audit
