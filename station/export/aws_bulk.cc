#include "station/export/aws_bulk.h"

#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "station/base/bytes.h"
#include "station/base/files.h"
#include "station/base/text.h"
#include "station/export/formats.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/pki/x509.h"

namespace station::exports {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

Error Refused(const char* reason, const std::string& message) {
  return MakeError(Code::kFailedPrecondition, reason, message);
}

std::string Seq(const audit::AuditRecord& r) { return "record " + std::to_string(r.seq); }

// What every line of one task must share: how its thing is described.
struct Shape {
  bool typed = false;
  std::set<std::string> attributes;
  uint64_t seq = 0;  // the first record of this shape
};

Shape ShapeOf(const audit::AuditRecord& r) {
  Shape shape{!r.thing_type.empty(), {}, r.seq};
  for (const auto& field : ThingAttributes(r.thing_attributes)) shape.attributes.insert(field.first);
  return shape;
}

// The export's CA certificates by the key id their certificates name them by.
Result<std::map<std::string, std::string>> CaPemsByKeyId(store::Store& store, const std::vector<std::string>& files) {
  std::vector<X509Ptr> certs;
  for (const std::string& file : files) {
    ST_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain, pki::ReadCertsPem(file));
    for (X509Ptr& cert : chain) certs.push_back(std::move(cert));
  }
  ST_ASSIGN_OR_RETURN(std::vector<store::CaRow> rows, store.CaSets());
  for (const store::CaRow& row : rows) {
    ST_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain,
                        pki::ParseCertsPem(row.certificate_pem, "the CA set's " + row.key_id));
    certs.push_back(std::move(chain.front()));
  }
  std::map<std::string, std::string> out;
  for (const X509Ptr& cert : certs) out.emplace(Hex(pki::CaKeyId(cert.get())), pki::CertPem(cert.get()));
  return out;
}

// Checks every record of the range before anything is written.
Result<Shape> CheckRange(const ForEachIssuance& each, const std::map<std::string, std::string>& cas) {
  std::optional<Shape> shape;
  std::map<std::string, std::string> parameters;  // parameter -> attribute
  ST_RETURN_IF_ERROR(each([&](const audit::AuditRecord& r) -> Status {
    if (r.thing_name.empty())
      return Refused("THING_NAME_MISSING", Seq(r) + " (profile '" + r.profile + "') names no thing, and bulk "
                     "registration makes one per line: export only the profiles whose devices are things (--profile)");
    if (!cas.count(r.issuer_key_id))
      return Refused("CA_CERT_NOT_FOUND", Seq(r) + " was issued by the CA of key id " + r.issuer_key_id +
                     ", whose certificate is neither in the store's CA sets nor among the config's; name it with "
                     "--ca-cert FILE");
    Shape mine = ShapeOf(r);
    if (!shape) {
      shape = mine;
    } else if (mine.typed != shape->typed || mine.attributes != shape->attributes) {
      return Refused("BULK_MIXED_THINGS",
                     Seq(r) + " describes its thing otherwise than record " + std::to_string(shape->seq) +
                         " (thing type, or attribute names), and one bulk registration task applies one template to "
                         "every line: export them apart (--profile, --since-seq, --checkpoint)");
    }
    return {};
  }));
  if (!shape) return Refused("EXPORT_EMPTY", "no issuance in the range to register");
  for (const std::string& attribute : shape->attributes) {
    auto [at, fresh] = parameters.emplace(AttributeParameter(attribute), attribute);
    if (!fresh)
      return Refused("BULK_PARAMETER_CLASH", "thing attributes '" + at->second + "' and '" + attribute +
                                                 "' would both be template parameter " + at->first);
  }
  return *shape;
}

std::string Parameter(const std::string& name, const std::string& value, bool first = false) {
  return std::string(first ? "" : ",") + "\"" + JsonEscape(name) + "\":\"" + JsonEscape(value) + "\"";
}

std::string TemplateJson(const Shape& shape, const std::string& policy_name) {
  std::string parameters = "\"ThingName\":{\"Type\":\"String\"}";
  if (shape.typed) parameters += ",\"ThingTypeName\":{\"Type\":\"String\"}";
  parameters += ",\"SerialNumber\":{\"Type\":\"String\"},\"CertificatePem\":{\"Type\":\"String\"},"
                "\"CACertificatePem\":{\"Type\":\"String\"}";
  std::string payload;
  for (const std::string& attribute : shape.attributes) {
    parameters += ",\"" + AttributeParameter(attribute) + "\":{\"Type\":\"String\"}";
    payload += std::string(payload.empty() ? "" : ",") + "\"" + JsonEscape(attribute) + "\":{\"Ref\":\"" +
               AttributeParameter(attribute) + "\"}";
  }
  // A thing that exists already (a rerun) keeps its groups, gets these.
  std::string thing = "\"ThingName\":{\"Ref\":\"ThingName\"}", overrides;
  if (shape.typed) {
    thing += ",\"ThingTypeName\":{\"Ref\":\"ThingTypeName\"}";
    overrides = "\"ThingTypeName\":\"REPLACE\"";
  }
  if (!payload.empty()) {
    thing += ",\"AttributePayload\":{" + payload + "}";
    overrides += std::string(overrides.empty() ? "" : ",") + "\"AttributePayload\":\"MERGE\"";
  }
  return "{\n\"Parameters\":{" + parameters + "},\n\"Resources\":{\n"
         "\"thing\":{\"Type\":\"AWS::IoT::Thing\",\"Properties\":{" + thing + "},"
         "\"OverrideSettings\":{" + overrides + "}},\n"
         "\"certificate\":{\"Type\":\"AWS::IoT::Certificate\",\"Properties\":{"
         "\"CertificatePem\":{\"Ref\":\"CertificatePem\"},\"CACertificatePem\":{\"Ref\":\"CACertificatePem\"},"
         "\"Status\":\"ACTIVE\"}},\n"
         "\"policy\":{\"Type\":\"AWS::IoT::Policy\",\"Properties\":{\"PolicyName\":\"" + JsonEscape(policy_name) +
         "\"}}\n}\n}\n";
}

std::string Line(const audit::AuditRecord& r, const std::string& ca_pem) {
  std::string line = "{" + Parameter("ThingName", r.thing_name, true);
  if (!r.thing_type.empty()) line += Parameter("ThingTypeName", r.thing_type);
  line += Parameter("SerialNumber", r.serial_hex) + Parameter("CertificatePem", CertificatePem(r.certificate_der)) +
          Parameter("CACertificatePem", ca_pem);
  for (const auto& [attribute, value] : ThingAttributes(r.thing_attributes))
    line += Parameter(AttributeParameter(attribute), value);
  return line + "}\n";
}

// AWS IoT's policy names: 1 to 128 of a-z A-Z 0-9 _ + = , . @ -.
bool ValidPolicyName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char c : name)
    if (!std::isalnum(c) && std::string("_+=,.@-").find(static_cast<char>(c)) == std::string::npos) return false;
  return true;
}

}  // namespace

std::string AttributeParameter(const std::string& name) {
  std::string out = "Attr_";
  for (unsigned char c : name) out.push_back(std::isalnum(c) ? static_cast<char>(c) : '_');
  return out;
}

Status WriteAwsBulk(store::Store& store, const ExportRequest& request, const std::string& note,
                    const ForEachIssuance& each, ExportResult& result) {
  namespace fs = std::filesystem;
  if (request.out.empty()) return MakeError(Code::kInvalidArgument, "USAGE", "aws-bulk needs --out DIR");
  if (!ValidPolicyName(request.policy_name))
    return MakeError(Code::kInvalidArgument, "USAGE",
                     "aws-bulk needs --policy-name NAME, the AWS IoT policy its things get (1 to 128 of a-z A-Z 0-9 "
                     "_ + = , . @ -)");
  ST_ASSIGN_OR_RETURN(auto cas, CaPemsByKeyId(store, request.ca_certificate_files));
  ST_ASSIGN_OR_RETURN(Shape shape, CheckRange(each, cas));
  const std::string body = TemplateJson(shape, request.policy_name);
  if (body.size() > kMaxTemplateChars)
    return Refused("BULK_TEMPLATE_TOO_LONG", "the template would have " + std::to_string(body.size()) +
                                                 " characters; AWS IoT takes at most " +
                                                 std::to_string(kMaxTemplateChars) + " (fewer thing attributes)");
  std::error_code ec;
  if (fs::exists(request.out, ec) && !fs::is_empty(request.out, ec))
    return Unwritable(request.out, "the directory exists and is not empty (an export never overwrites)");
  fs::create_directories(request.out, ec);
  if (ec) return Unwritable(request.out, ec.message());
  const std::string ndjson = request.out + "/registration.ndjson";
  ST_ASSIGN_OR_RETURN(base::NewFile file, base::NewFile::Create(ndjson, 0644));
  std::string pending;
  ST_RETURN_IF_ERROR(each([&](const audit::AuditRecord& r) -> Status {
    pending += Line(r, cas.at(r.issuer_key_id));
    if (result.records++ == 0) result.first_seq = r.seq;
    result.last_seq = r.seq;
    if (pending.size() < kFlushBytes) return {};
    ST_RETURN_IF_ERROR(file.Append(pending));
    pending.clear();
    return {};
  }));
  ST_RETURN_IF_ERROR(file.Append(pending));
  ST_RETURN_IF_ERROR(base::WriteFile(request.out + "/template.json", body, 0644));
  ST_RETURN_IF_ERROR(base::WriteFile(request.out + "/checkpoint", note, 0644));
  ST_RETURN_IF_ERROR(file.Commit());
  result.files = {ndjson, request.out + "/template.json", request.out + "/checkpoint"};
  return {};
}

std::string AwsBulkCommands(const std::string& dir) {
  return "register them with AWS IoT (one bulk task runs per account at a time):\n"
         "  aws s3 cp " + dir + "/registration.ndjson s3://<bucket>/<key>\n"
         "  aws iot start-thing-registration-task --template-body file://" + dir + "/template.json \\\n"
         "      --input-file-bucket <bucket> --input-file-key <key> --role-arn <role that may register things>\n"
         "  aws iot list-thing-registration-task-reports --task-id <taskId> --report-type ERRORS\n";
}

}  // namespace station::exports
