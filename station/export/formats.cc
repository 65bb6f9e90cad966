#include "station/export/formats.h"

#include <ctime>

#include "station/base/text.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/pki/x509.h"
#include "station/store/record.h"

namespace station::exports {
namespace {

// RFC 4180 quoting. Device data is not trusted (CSV injection, OWASP): a
// cell a spreadsheet would run as a formula gets a leading apostrophe and
// quotes, and so does one holding the separator of a ';' locale.
std::string CsvCell(const std::string& value) {
  std::string v = value;
  const bool formula =
      !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r');
  if (formula) v = "'" + v;
  if (!formula && v.find_first_of(",;\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string S(const std::string& value) { return "{\"S\":\"" + JsonEscape(value) + "\"}"; }

// A thing_attributes JSON object ({"k":"v",...}, as stored) as a DynamoDB map.
std::string AttributesMap(const std::string& attributes_json) {
  std::string out;
  for (const auto& [key, value] : ThingAttributes(attributes_json))
    out += (out.empty() ? "\"" : ",\"") + JsonEscape(key) + "\":" + S(value);
  return "{\"M\":{" + out + "}}";
}

}  // namespace

Result<CertFacts> ReadCertFacts(const audit::AuditRecord& record) {
  ST_ASSIGN_OR_RETURN(X509Ptr cert, pki::ParseCertDer(record.certificate_der));
  CertFacts facts;
  facts.issuer = pki::NameText(X509_get_issuer_name(cert.get()));
  facts.not_after = pki::TimeText(X509_get0_notAfter(cert.get()));
  if (facts.not_after.empty())
    return MakeError(Code::kDataLoss, "BAD_AUDIT_RECORD", "record " + std::to_string(record.seq) + ": bad notAfter");
  facts.pem = pki::CertPem(cert.get());
  return facts;
}

std::map<std::string, std::string> ThingAttributes(const std::string& stored) {
  if (stored.empty()) return {};
  return JsonObjectFields(stored).value_or(std::map<std::string, std::string>{});
}

// One column per field of an issuance record (store/record.h), in its order.
std::string CsvHeader() {
  std::string out;
  for (const store::RecordField& field : store::RecordFields(store::RecordKind::kIssuance))
    out += (out.empty() ? "" : ",") + std::string(field.name);
  return out + "\r\n";
}

std::string CsvLine(const audit::AuditRecord& r) {
  std::string out;
  for (const store::RecordField& field : store::RecordFields(store::RecordKind::kIssuance)) {
    std::string cell = store::FieldText(r, field);
    if (field.type == store::FieldType::kCertificate) cell = CertificatePem(r.certificate_der);
    if (field.type == store::FieldType::kJsonObject && cell.empty()) cell = "{}";
    out += (out.empty() ? "" : ",") + CsvCell(cell);
  }
  return out + "\r\n";
}

std::string AllowlistLine(const audit::AuditRecord& r, const CertFacts& cert) {
  std::string item = "\"serial\":" + S(r.serial_hex) + ",\"certificateId\":" + S(r.certificate_id) +
                     ",\"subject\":" + S(r.subject) + ",\"issuer\":" + S(cert.issuer);
  if (!r.thing_name.empty()) item += ",\"thingName\":" + S(r.thing_name);
  if (!r.thing_type.empty()) item += ",\"thingType\":" + S(r.thing_type);
  item += ",\"attributes\":" + AttributesMap(r.thing_attributes);
  item += ",\"notAfter\":" + S(cert.not_after) + ",\"deviceId\":" + S(r.device_id) + ",\"profile\":" + S(r.profile) +
          ",\"jitr\":{\"BOOL\":true},\"auditSeq\":{\"N\":\"" + std::to_string(r.seq) + "\"}";
  return "{\"Item\":{" + item + "}}\n";
}

std::string ProvisioningLine(const audit::AuditRecord& r, const CertFacts& cert, bool claim) {
  return "{\"Item\":{\"deviceId\":" + S(r.device_id) + ",\"certificateId\":" + S(r.certificate_id) +
         ",\"profile\":" + S(r.profile) + ",\"claim\":{\"BOOL\":" + (claim ? "true" : "false") +
         "},\"notAfter\":" + S(cert.not_after) + ",\"auditSeq\":{\"N\":\"" + std::to_string(r.seq) + "\"}}}\n";
}

}  // namespace station::exports
