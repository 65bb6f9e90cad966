#include "station/policy/profile_file.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "station/base/duration.h"
#include "station/base/ossl.h"
#include "station/base/toml_fields.h"
#include "station/policy/request_rules.h"

namespace station::policy {
namespace {

namespace fs = std::filesystem;
using base::Fields;

constexpr const char* kReason = "BAD_PROFILE";
constexpr size_t kMaxSubjectFields = 16;
constexpr size_t kMaxSanEntries = 16;
constexpr size_t kMaxExtensions = 16;
constexpr size_t kMaxProfiles = 256;
constexpr int64_t kMaxBackdateSeconds = 7 * 86400;
constexpr int64_t kMinDurationSeconds = 60;
constexpr int64_t kMaxDurationSeconds = 100LL * 365 * 86400;

// Extensions the profile builds itself; [[extension]] may not add them again.
const std::set<std::string> kControlledExtensions = {
    "2.5.29.14",  // subjectKeyIdentifier
    "2.5.29.15",  // keyUsage
    "2.5.29.17",  // subjectAltName
    "2.5.29.19",  // basicConstraints
    "2.5.29.35",  // authorityKeyIdentifier
    "2.5.29.37",  // extKeyUsage
};

// RFC 5280 4.2.1.3; keyCertSign and cRLSign belong to CAs only.
const std::set<std::string> kKeyUsageNames = {"digitalSignature", "nonRepudiation", "keyEncipherment",
                                              "dataEncipherment", "keyAgreement",   "encipherOnly",
                                              "decipherOnly"};

std::string DottedOid(const std::string& text, bool numeric_only) {
  if (numeric_only && (text.empty() || text.find_first_not_of("0123456789.") != std::string::npos)) return "";
  ASN1_OBJECT* obj = OBJ_txt2obj(text.c_str(), numeric_only ? 1 : 0);
  if (obj == nullptr) return "";
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  ASN1_OBJECT_free(obj);
  return n > 0 && static_cast<size_t>(n) < sizeof buf ? std::string(buf, static_cast<size_t>(n)) : "";
}

// AWS IoT's character set for thing names, thing types and attribute names.
bool AwsName(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '_' || c == '-';
  });
}

Result<std::optional<Pattern>> CompilePattern(const Fields& f, const std::string& key, const std::string& text) {
  if (text.empty()) return std::optional<Pattern>();
  auto pattern = Pattern::Compile(text);
  if (!pattern.ok())
    return f.Wrong(key, "'" + text.substr(0, 64) + (text.size() > 64 ? "...'" : "'") + ": " + pattern.error().message);
  return std::optional<Pattern>(std::move(*pattern));
}

Result<Template> ParseTemplate(const Fields& f, const std::string& key, const std::string& text) {
  auto t = Template::Parse(text);
  if (!t.ok()) return f.Wrong(key, t.error().message);
  return t;
}

Result<Bytes> ParseHexDer(const Fields& f, const std::string& key, const std::string& hex) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 2048 ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    return f.Wrong(key, "must be an even number (at most 2048) of hex digits");
  Bytes der;
  for (size_t i = 0; i < hex.size(); i += 2) der.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  // One complete DER element, nothing after it.
  const unsigned char* p = der.data();
  long len = 0;
  int tag = 0, cls = 0;
  int ret = ASN1_get_object(&p, &len, &tag, &cls, static_cast<long>(der.size()));
  if ((ret & 0x80) || ret == 0x21 || p + len != der.data() + der.size())
    return f.Wrong(key, "is not one complete DER element");
  return der;
}

Status LoadSubject(Fields& top, Profile& p) {
  ST_ASSIGN_OR_RETURN(auto sections, top.TableArray("subject"));
  if (sections.size() > kMaxSubjectFields)
    return top.Wrong("subject", "at most " + std::to_string(kMaxSubjectFields) + " fields");
  p.subject.clear();
  for (size_t i = 0; i < sections.size(); ++i) {
    Fields f(*sections[i], top.file(), "subject[" + std::to_string(i) + "]", kReason);
    SubjectField field;
    std::string value;
    ST_RETURN_IF_ERROR(f.String("attribute", field.attribute, true));
    ST_RETURN_IF_ERROR(f.String("value", value, true));
    ST_RETURN_IF_ERROR(f.Bool("optional", field.optional));
    ST_RETURN_IF_ERROR(f.Bool("match_issuer", field.match_issuer));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
    if (DottedOid(field.attribute, false).empty())
      return f.Wrong("attribute", "'" + field.attribute + "' is neither an attribute name (CN, O, serialNumber, ...) nor an OID");
    ST_ASSIGN_OR_RETURN(field.value, ParseTemplate(f, "value", value));
    p.subject.push_back(std::move(field));
  }
  return {};
}

Status LoadSan(Fields& top, Profile& p) {
  ST_ASSIGN_OR_RETURN(auto sections, top.TableArray("san"));
  if (sections.size() > kMaxSanEntries) return top.Wrong("san", "at most " + std::to_string(kMaxSanEntries) + " entries");
  for (size_t i = 0; i < sections.size(); ++i) {
    Fields f(*sections[i], top.file(), "san[" + std::to_string(i) + "]", kReason);
    SanEntry entry;
    std::string type, value, hw_type;
    ST_RETURN_IF_ERROR(f.String("type", type, true));
    ST_RETURN_IF_ERROR(f.String("value", value, true));
    ST_RETURN_IF_ERROR(f.String("hw_type", hw_type));
    ST_RETURN_IF_ERROR(f.Bool("optional", entry.optional));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
    if (type == "uri") {
      entry.kind = SanEntry::Kind::kUri;
    } else if (type == "dns") {
      entry.kind = SanEntry::Kind::kDns;
    } else if (type == "email") {
      entry.kind = SanEntry::Kind::kEmail;
    } else if (type == "hardware-module-name") {
      entry.kind = SanEntry::Kind::kHardwareModuleName;
      ST_ASSIGN_OR_RETURN(entry.hw_type, ParseTemplate(f, "hw_type", hw_type));
      if (hw_type.empty() || (entry.hw_type.constant() && DottedOid(hw_type, true).empty()))
        return f.Wrong("hw_type", "hardware-module-name needs hw_type: the hardware type OID (dotted, RFC 4108 5) "
                                  "or a template such as \"{attr.hw_type}\"");
    } else {
      return f.Wrong("type", "'" + type + "' is not one of uri, dns, email, hardware-module-name");
    }
    if (entry.kind != SanEntry::Kind::kHardwareModuleName && !hw_type.empty())
      return f.Wrong("hw_type", "only a hardware-module-name entry has a hw_type");
    ST_ASSIGN_OR_RETURN(entry.value, ParseTemplate(f, "value", value));
    p.san.push_back(std::move(entry));
  }
  return {};
}

Status LoadExtensions(Fields& top, Profile& p) {
  ST_ASSIGN_OR_RETURN(auto sections, top.TableArray("extension"));
  if (sections.size() > kMaxExtensions) return top.Wrong("extension", "at most " + std::to_string(kMaxExtensions));
  std::set<std::string> seen;
  for (size_t i = 0; i < sections.size(); ++i) {
    Fields f(*sections[i], top.file(), "extension[" + std::to_string(i) + "]", kReason);
    ExtraExtension ext;
    std::string der_hex, utf8;
    ST_RETURN_IF_ERROR(f.String("oid", ext.oid, true));
    ST_RETURN_IF_ERROR(f.Bool("critical", ext.critical));
    ST_RETURN_IF_ERROR(f.String("der", der_hex));
    ST_RETURN_IF_ERROR(f.String("utf8", utf8));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
    std::string dotted = DottedOid(ext.oid, true);
    if (dotted.empty()) return f.Wrong("oid", "'" + ext.oid + "' is not a dotted OID");
    if (kControlledExtensions.count(dotted))
      return f.Wrong("oid", dotted + " is built by the profile itself (use key_usage, extended_key_usage, [[san]])");
    if (!seen.insert(dotted).second) return f.Wrong("oid", dotted + " appears twice (RFC 5280 4.2)");
    if (der_hex.empty() == utf8.empty()) return f.Wrong("der", "give exactly one of der (hex) or utf8 (a template)");
    if (!der_hex.empty()) {
      ST_ASSIGN_OR_RETURN(ext.der, ParseHexDer(f, "der", der_hex));
    } else {
      ST_ASSIGN_OR_RETURN(ext.utf8, ParseTemplate(f, "utf8", utf8));
    }
    ext.oid = dotted;
    p.extensions.push_back(std::move(ext));
  }
  return {};
}

Status LoadUsage(const toml::table& table, const std::string& file, Profile& p) {
  Fields f(table, file, "usage", kReason);
  ST_RETURN_IF_ERROR(f.StringList("key_usage", p.key_usage));
  bool rsa_given = f.Present("rsa_key_usage");
  ST_RETURN_IF_ERROR(f.StringList("rsa_key_usage", p.rsa_key_usage));
  if (!rsa_given) p.rsa_key_usage = p.key_usage;
  ST_RETURN_IF_ERROR(f.StringList("extended_key_usage", p.extended_key_usage));
  ST_RETURN_IF_ERROR(f.Bool("extended_key_usage_critical", p.extended_key_usage_critical));
  ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  for (const char* key : {"key_usage", "rsa_key_usage"}) {
    const auto& list = std::string(key) == "key_usage" ? p.key_usage : p.rsa_key_usage;
    if (list.empty()) return f.Wrong(key, "needs at least one usage (RFC 5280 4.2.1.3)");
    for (const auto& name : list)
      if (!kKeyUsageNames.count(name))
        return f.Wrong(key, "'" + name + "' is not a key usage a device certificate may have "
                            "(digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, ...)");
  }
  for (const auto& name : p.extended_key_usage)
    if (name.find(',') != std::string::npos || DottedOid(name, false).empty())
      return f.Wrong("extended_key_usage", "'" + name + "' is neither a known purpose (clientAuth, serverAuth, ...) nor an OID");
  return {};
}

Status LoadValidity(const toml::table& table, const std::string& file, Validity& v) {
  Fields f(table, file, "validity", kReason);
  std::string backdate, duration;
  ST_RETURN_IF_ERROR(f.String("backdate", backdate));
  ST_RETURN_IF_ERROR(f.String("duration", duration));
  ST_RETURN_IF_ERROR(f.Bool("clamp_to_ca", v.clamp_to_ca));
  ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  if (!backdate.empty()) {
    auto seconds = base::ParseDuration(backdate);
    if (!seconds.ok()) return f.Wrong("backdate", seconds.error().message);
    if (*seconds > kMaxBackdateSeconds) return f.Wrong("backdate", "at most 7d");
    v.backdate_seconds = *seconds;
  }
  if (duration == "no-expiration") {
    // RFC 5280 4.1.2.5: 99991231235959Z means "no well-defined expiration";
    // it outlives any CA, so it is never clamped.
    v.no_expiration = true;
    v.clamp_to_ca = false;
  } else if (!duration.empty()) {
    auto seconds = base::ParseDuration(duration);
    if (!seconds.ok()) return f.Wrong("duration", seconds.error().message + ", or no-expiration");
    if (*seconds < kMinDurationSeconds || *seconds > kMaxDurationSeconds)
      return f.Wrong("duration", "must be between 1m and 100y");
    v.duration_seconds = *seconds;
  }
  return {};
}

Status LoadAttributes(const toml::table& table, const std::string& file, Profile& p) {
  Fields parent(table, file, "attributes", kReason);
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    const toml::table* rule_table = node.as_table();
    if (rule_table == nullptr) return parent.Wrong(name, "must be a table: [attributes." + name + "]");
    if (name.size() > 64) return parent.Wrong(name, "attribute names have 1 to 64 characters");
    Fields f(*rule_table, file, "attributes." + name, kReason);
    AttributeRule rule;
    ST_RETURN_IF_ERROR(f.Bool("required", rule.required));
    ST_RETURN_IF_ERROR(f.String("pattern", rule.pattern_text));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
    ST_ASSIGN_OR_RETURN(rule.pattern, CompilePattern(f, "pattern", rule.pattern_text));
    p.attributes[name] = std::move(rule);
  }
  return {};
}

Status LoadThing(const toml::table& table, const std::string& file, ThingRules& t) {
  Fields f(table, file, "thing", kReason);
  std::vector<std::string> attributes;
  ST_RETURN_IF_ERROR(f.Bool("required", t.required));
  ST_RETURN_IF_ERROR(f.String("name_pattern", t.name_pattern_text));
  ST_RETURN_IF_ERROR(f.StringList("types", t.types));
  ST_RETURN_IF_ERROR(f.Bool("type_required", t.type_required));
  bool attributes_given = f.Present("attributes");
  ST_RETURN_IF_ERROR(f.StringList("attributes", attributes));
  ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  ST_ASSIGN_OR_RETURN(t.name_pattern, CompilePattern(f, "name_pattern", t.name_pattern_text));
  for (const auto& type : t.types)
    if (!AwsName(type)) return f.Wrong("types", "'" + type + "' is not a valid AWS IoT thing type name");
  if (attributes_given) t.attributes.clear();
  for (const auto& name : attributes) {
    if (name != "*" && !AwsName(name)) return f.Wrong("attributes", "'" + name + "' is not a valid AWS IoT attribute name");
    t.attributes.insert(name);
  }
  return {};
}

Status LoadKey(const toml::table& table, const std::string& file, Profile& p) {
  Fields f(table, file, "key", kReason);
  std::vector<std::string> algorithms;
  bool given = f.Present("algorithms");
  ST_RETURN_IF_ERROR(f.StringList("algorithms", algorithms));
  ST_RETURN_IF_ERROR(f.Number("rsa_min_bits", p.rsa_min_bits, kMinRsaBits, kMaxRsaBits));
  ST_RETURN_IF_ERROR(f.Number("rsa_max_bits", p.rsa_max_bits, kMinRsaBits, kMaxRsaBits));
  ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  if (given) {
    if (algorithms.empty()) return f.Wrong("algorithms", "allow at least one of ec-p256, ec-p384, rsa");
    p.key_algorithms.clear();
    for (const auto& a : algorithms) {
      if (a != "ec-p256" && a != "ec-p384" && a != "rsa")
        return f.Wrong("algorithms", "'" + a + "' is not one of ec-p256, ec-p384, rsa");
      p.key_algorithms.insert(a);
    }
  }
  if (p.rsa_min_bits > p.rsa_max_bits) return f.Wrong("rsa_min_bits", "is larger than rsa_max_bits");
  return {};
}

Status LoadDeviceId(const toml::table& table, const std::string& file, Profile& p) {
  Fields f(table, file, "device_id", kReason);
  ST_RETURN_IF_ERROR(f.Bool("required", p.device_id_required));
  ST_RETURN_IF_ERROR(f.String("pattern", p.device_id_pattern_text));
  ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  ST_ASSIGN_OR_RETURN(p.device_id_pattern, CompilePattern(f, "pattern", p.device_id_pattern_text));
  return {};
}

// Checks that need the whole profile.
Status CheckConsistency(Fields& top, Profile& p) {
  if (p.authorization == Authorization::kRegistrationCode && !p.attributes.count(kRegistrationCodeAttribute))
    p.attributes[kRegistrationCodeAttribute] = AttributeRule{false, "", std::nullopt};  // absent: DEVICE_NOT_AUTHORIZED
  // Every attribute a template reads must be declared: a typo must not turn a
  // required field into an always-missing one.
  auto declared = [&](const Template& t, const std::string& where) -> Status {
    for (const auto& a : t.attributes())
      if (!p.attributes.count(a))
        return top.Wrong(where, "reads {attr." + a + "}, which no [attributes." + a + "] section declares");
    return {};
  };
  for (size_t i = 0; i < p.subject.size(); ++i)
    ST_RETURN_IF_ERROR(declared(p.subject[i].value, "subject[" + std::to_string(i) + "].value"));
  for (size_t i = 0; i < p.san.size(); ++i) {
    ST_RETURN_IF_ERROR(declared(p.san[i].value, "san[" + std::to_string(i) + "].value"));
    ST_RETURN_IF_ERROR(declared(p.san[i].hw_type, "san[" + std::to_string(i) + "].hw_type"));
  }
  for (size_t i = 0; i < p.extensions.size(); ++i)
    ST_RETURN_IF_ERROR(declared(p.extensions[i].utf8, "extension[" + std::to_string(i) + "].utf8"));
  if (p.subject.empty() && !p.csr_subject_when_empty)
    return top.Wrong("subject", "needs at least one [[subject]] field when csr_subject_when_empty is false");
  if (p.one_per_device && !p.device_id_required)
    return top.Wrong("one_per_device", "needs [device_id] required = true (devices are told apart by device_id)");
  if (p.authorization == Authorization::kLot && !p.device_id_required)
    return top.Wrong("authorization", "\"lot\" needs [device_id] required = true (a lot lists device ids)");
  if (std::string problem = LineSetProblem(p.lines); !problem.empty()) return top.Wrong("lines", problem);
  // The activation function makes the thing the allow-list names: a JITR
  // device without one would be found out in the cloud, not at the line.
  if (p.aws_jitr && !p.thing.required)
    return top.Wrong("aws", "jitr = true needs [thing] required = true (every JITR device is an AWS IoT thing)");
  if (p.aws_claim && p.aws_jitr) return top.Wrong("aws", "a profile is claim or jitr, not both");
  if (p.aws_claim && p.ca_key_uri.empty())
    return top.Wrong("aws", "claim = true needs a [ca] of its own: the CA registered for JITR must never sign a claim");
  if (p.ca_key_uri.empty() != p.ca_certificate.empty())
    return top.Wrong("ca", "give both key_uri and certificate, or neither (the station's [ca])");
  return {};
}

}  // namespace

const char* AuthorizationName(Authorization a) noexcept {
  switch (a) {
    case Authorization::kLot: return "lot";
    case Authorization::kRegistrationCode: return "registration-code";
    case Authorization::kNone: break;
  }
  return "none";
}

Profile ProfileDefaults() {
  Profile p;
  SubjectField cn;
  cn.attribute = "CN";
  cn.value = Template::Parse("{device_id}").value();
  cn.optional = true;
  p.subject.push_back(std::move(cn));
  return p;
}

static Result<Profile> ProfileFrom(const toml::table& root, const std::string& path) {
  Profile p = ProfileDefaults();
  p.file = path;
  p.name = fs::path(path).stem().string();
  p.description.clear();
  Fields top(root, path, "", kReason);
  if (p.name.empty() || p.name.size() > 64 ||
      p.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") != std::string::npos)
    return top.Wrong("(file name)", "a profile's name is its file name: 1 to 64 of a-z 0-9 . - _");
  ST_RETURN_IF_ERROR(top.String("description", p.description));
  std::vector<std::string> lines;
  bool lines_given = top.Present("lines");
  ST_RETURN_IF_ERROR(top.StringList("lines", lines));
  if (!lines_given) return top.Missing("lines");
  p.lines = std::set<std::string>(lines.begin(), lines.end());
  ST_RETURN_IF_ERROR(top.Bool("one_per_device", p.one_per_device));
  ST_RETURN_IF_ERROR(top.Bool("csr_subject_when_empty", p.csr_subject_when_empty));
  std::string authorization = "none";
  ST_RETURN_IF_ERROR(top.String("authorization", authorization));
  if (authorization == "lot") {
    p.authorization = Authorization::kLot;
  } else if (authorization == "registration-code") {
    p.authorization = Authorization::kRegistrationCode;
  } else if (authorization != "none") {
    return top.Wrong("authorization", "'" + authorization + "' is not one of none, lot, registration-code");
  }
  if (const toml::table* ca = top.Table("ca")) {
    Fields f(*ca, path, "ca", kReason);
    ST_RETURN_IF_ERROR(f.String("key_uri", p.ca_key_uri, true));
    ST_RETURN_IF_ERROR(f.Path("certificate", p.ca_certificate, true));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  }
  if (const toml::table* t = top.Table("key")) ST_RETURN_IF_ERROR(LoadKey(*t, path, p));
  if (const toml::table* t = top.Table("device_id")) ST_RETURN_IF_ERROR(LoadDeviceId(*t, path, p));
  if (const toml::table* t = top.Table("attributes")) ST_RETURN_IF_ERROR(LoadAttributes(*t, path, p));
  if (const toml::table* t = top.Table("thing")) ST_RETURN_IF_ERROR(LoadThing(*t, path, p.thing));
  if (const toml::table* t = top.Table("aws")) {
    Fields f(*t, path, "aws", kReason);
    ST_RETURN_IF_ERROR(f.Bool("jitr", p.aws_jitr));
    ST_RETURN_IF_ERROR(f.Bool("claim", p.aws_claim));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  }
  if (const toml::table* t = top.Table("validity")) ST_RETURN_IF_ERROR(LoadValidity(*t, path, p.validity));
  if (const toml::table* t = top.Table("usage")) ST_RETURN_IF_ERROR(LoadUsage(*t, path, p));
  if (top.Present("subject")) ST_RETURN_IF_ERROR(LoadSubject(top, p));
  ST_RETURN_IF_ERROR(LoadSan(top, p));
  ST_RETURN_IF_ERROR(LoadExtensions(top, p));
  ST_RETURN_IF_ERROR(top.NoUnknownKeys());
  ST_RETURN_IF_ERROR(CheckConsistency(top, p));
  return p;
}

Result<Profile> LoadProfileFile(const std::string& path) {
  ST_ASSIGN_OR_RETURN(toml::table root, base::ParseToml(path, kReason));
  return ProfileFrom(root, path);
}

Result<Profile> ParseProfile(std::string_view text, const std::string& path) {
  ST_ASSIGN_OR_RETURN(toml::table root, base::ParseTomlText(text, path, kReason));
  return ProfileFrom(root, path);
}

Result<std::vector<Profile>> LoadProfileDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return MakeError(Code::kFailedPrecondition, kReason, dir + ": the profiles directory does not exist");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".toml") files.push_back(entry.path().string());
  if (ec) return MakeError(Code::kFailedPrecondition, kReason, dir + ": " + ec.message());
  if (files.size() > kMaxProfiles)
    return MakeError(Code::kFailedPrecondition, kReason, dir + ": more than " + std::to_string(kMaxProfiles) + " profiles");
  std::sort(files.begin(), files.end());
  std::vector<Profile> out;
  for (const auto& file : files) {
    ST_ASSIGN_OR_RETURN(Profile p, LoadProfileFile(file));
    out.push_back(std::move(p));
  }
  if (out.empty())
    return MakeError(Code::kFailedPrecondition, kReason,
                     dir + ": no profile (*.toml); a station serves only the profiles written there (docs/profiles.md)");
  return out;
}

}  // namespace station::policy
