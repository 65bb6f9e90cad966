// An issuance profile: what a certificate of one product line looks like, who
// may ask for one, and which devices may get one. Officers write profiles as
// TOML files (docs/profiles.md); profile_file.h reads and checks them.
//
// A default-constructed Profile holds what a profile file leaves unsaid (a TLS
// client certificate, ten years); it is no profile a station serves: a station
// serves exactly the files of its profiles_dir.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "station/policy/pattern.h"
#include "station/policy/template.h"

namespace station::policy {

// The device keys any profile may accept: RSA of 2048 to 4096 bits (a
// profile narrows this with rsa_min_bits and rsa_max_bits).
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 4096;

// A device id: 1 to 64 printable ASCII characters (RFC 5280 ub-common-name:
// it becomes the subject CN). One rule for requests, lots and reissues.
constexpr size_t kMaxDeviceIdBytes = 64;
bool ValidDeviceId(const std::string& id);

// Who may use a profile: caller identities (client certificate CN), or "*"
// for every line. The file sets it; officers may change it (officer/desk.h).
using LineSet = std::set<std::string>;
inline constexpr size_t kMaxLines = 1000;
inline constexpr size_t kMaxLineIdentityBytes = 64;

inline bool AllowsLine(const LineSet& lines, const std::string& identity) {
  return lines.count("*") > 0 || lines.count(identity) > 0;
}

// One relative distinguished name of the subject, in order.
struct SubjectField {
  std::string attribute;  // as written: "CN", "serialNumber", or a dotted OID
  Template value;
  bool optional = false;     // left out when a placeholder has no value
  bool match_issuer = false;  // must equal the issuer's attribute of the same type when it has one
};

// One SubjectAltName entry (RFC 5280 4.2.1.6).
struct SanEntry {
  enum class Kind { kUri, kDns, kEmail, kHardwareModuleName };
  Kind kind = Kind::kUri;
  Template value;    // the URI, DNS name, address, or (hardware-module-name) the hwSerialNum
  Template hw_type;  // hardware-module-name: the hwType OID (RFC 4108 5), fixed or from an attribute
  bool optional = false;
};

// An extension the profile adds by OID (not one the profile controls itself).
struct ExtraExtension {
  std::string oid;
  bool critical = false;
  std::vector<uint8_t> der;  // the extnValue contents, fixed; or
  Template utf8;             // a UTF8String filled per request
};

// A request attribute the profile reads or requires.
struct AttributeRule {
  bool required = false;
  std::string pattern_text;      // RE2 pattern (pattern.h) the whole value must match
  std::optional<Pattern> pattern;
};

enum class Authorization { kNone, kLot, kRegistrationCode };
const char* AuthorizationName(Authorization a) noexcept;

struct Validity {
  int64_t backdate_seconds = 300;  // notBefore = issuance time - this (device clock skew)
  int64_t duration_seconds = 3650LL * 86400;  // notAfter = issuance time + this
  bool no_expiration = false;  // notAfter = 99991231235959Z (RFC 5280 4.1.2.5)
  bool clamp_to_ca = true;     // never past the CA's own notAfter
};

// What the line may send as the AWS IoT thing (name, type, attributes).
struct ThingRules {
  bool required = false;              // the request must carry a thing_name (else it is device_id)
  std::string name_pattern_text;      // extra regex on the thing name
  std::optional<Pattern> name_pattern;
  std::vector<std::string> types;     // allowed thing types; empty: any valid name
  bool type_required = false;
  std::set<std::string> attributes;   // allowed attribute names; "*" allows any valid name
};

struct Profile {
  std::string name;
  std::string file;  // where it was read from
  std::string description;

  // The issuing CA; empty: the station's [ca].
  std::string ca_key_uri;
  std::string ca_certificate;

  // Device keys: "ec-p256", "ec-p384", "rsa" (any size within the RSA bounds).
  std::set<std::string> key_algorithms = {"ec-p256", "ec-p384", "rsa"};
  int rsa_min_bits = kMinRsaBits;
  int rsa_max_bits = kMaxRsaBits;

  std::vector<SubjectField> subject;  // ProfileDefaults(): CN = device_id when sent
  bool csr_subject_when_empty = true;  // use the CSR's subject when the template yields none
  std::vector<SanEntry> san;
  Validity validity;
  std::vector<std::string> key_usage = {"digitalSignature"};
  std::vector<std::string> rsa_key_usage = {"digitalSignature", "keyEncipherment"};
  std::vector<std::string> extended_key_usage = {"clientAuth"};
  bool extended_key_usage_critical = false;
  std::vector<ExtraExtension> extensions;

  LineSet lines = {"*"};  // as the file says; CertificateProfile::lines() is what holds now
  bool one_per_device = false;
  Authorization authorization = Authorization::kNone;
  bool device_id_required = false;
  std::string device_id_pattern_text;
  std::optional<Pattern> device_id_pattern;
  std::map<std::string, AttributeRule> attributes;  // the request attributes it accepts
  ThingRules thing{false, "", std::nullopt, {}, false, {"*"}};
  // [aws] jitr: its certificates are AWS IoT devices that the JITR activation
  // function may activate; only these enter the allow-list (docs/aws.md).
  bool aws_jitr = false;
  // [aws] claim: fleet provisioning claim certificates; needs a [ca] of its
  // own, which no JITR profile may share (runtime::LoadProfiles checks).
  bool aws_claim = false;
};

// The request attribute that carries a registration code.
inline constexpr const char* kRegistrationCodeAttribute = "registration_code";

}  // namespace station::policy
