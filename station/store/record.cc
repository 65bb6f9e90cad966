#include "station/store/record.h"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <type_traits>

namespace station::store {
namespace {

using enum FieldType;

constexpr RecordField kIssuanceFields[] = {
    {"seq", "seq", kSeq},
    {"time_unix_ms", "time_unix_ms", kTime},
    {"request_id", "request_id", kText, &AuditRecord::request_id},
    {"caller", "caller", kText, &AuditRecord::caller},
    {"device_id", "device_id", kText, &AuditRecord::device_id},
    {"profile", "profile", kText, &AuditRecord::profile},
    {"serial_hex", "serial_hex", kText, &AuditRecord::serial_hex, true, true},
    {"certificate_id", "certificate_id", kText, &AuditRecord::certificate_id},
    {"spki_sha256", "spki_sha256", kText, &AuditRecord::spki_sha256},
    {"subject", "subject", kText, &AuditRecord::subject},
    {"issuer_key_id", "issuer_key_id", kText, &AuditRecord::issuer_key_id},
    {"csr_sha256", "csr_sha256", kText, &AuditRecord::csr_sha256},
    {"thing_name", "thing_name", kText, &AuditRecord::thing_name},
    {"thing_type", "thing_type", kText, &AuditRecord::thing_type},
    {"thing_attributes", "thing_attributes", kJsonObject, &AuditRecord::thing_attributes},
    {"authorization", "authorization", kText, &AuditRecord::authorization},
    {"certificate_der", "certificate_pem", kCertificate},
    {"prev_hash", "prev_hash", kText, &AuditRecord::prev_hash},
    {"record_hash", "record_hash", kText, &AuditRecord::record_hash, false},
};

constexpr RecordField kOfficerFields[] = {
    {"seq", "seq", kSeq},
    {"time_unix_ms", "time_unix_ms", kTime},
    {"action_id", "action_id", kText, &AuditRecord::request_id, true, true},
    {"caller", "officer", kText, &AuditRecord::caller},
    {"action", "action", kText, &AuditRecord::action},
    {"profile", "profile", kText, &AuditRecord::profile},
    {"device_id", "device_id", kText, &AuditRecord::device_id},
    {"issuer_key_id", "issuer_key_id", kText, &AuditRecord::issuer_key_id},
    {"detail", "detail", kJsonObject, &AuditRecord::detail},
    {"prev_hash", "prev_hash", kText, &AuditRecord::prev_hash},
    {"record_hash", "record_hash", kText, &AuditRecord::record_hash, false},
};

// Decimal without leading zeros, within T: one encoding per number.
template <typename T>
bool ParseNumber(const std::string& s, T& out) {
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (errno == ERANGE || v > static_cast<unsigned long long>(std::numeric_limits<T>::max())) return false;
  out = static_cast<T>(v);
  return true;
}

}  // namespace

std::span<const RecordField> RecordFields(RecordKind kind) {
  if (kind == RecordKind::kOfficer) return kOfficerFields;
  return kIssuanceFields;
}

std::string FieldText(const AuditRecord& r, const RecordField& field) {
  switch (field.type) {
    case kSeq: return std::to_string(r.seq);
    case kTime: return std::to_string(r.time_unix_ms);
    case kCertificate: return std::string(r.certificate_der.begin(), r.certificate_der.end());
    case kText:
    case kJsonObject: return r.*field.text;
  }
  return "";
}

bool SetFieldText(AuditRecord& r, const RecordField& field, std::string value) {
  switch (field.type) {
    case kSeq: return ParseNumber(value, r.seq);
    case kTime: return ParseNumber(value, r.time_unix_ms);
    case kCertificate: r.certificate_der.assign(value.begin(), value.end()); return true;
    case kText:
    case kJsonObject: r.*field.text = std::move(value); return true;
  }
  return false;
}

}  // namespace station::store
