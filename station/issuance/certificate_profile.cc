#include "station/issuance/certificate_profile.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>

#include "station/pki/cert_builder.h"
#include "station/pki/der.h"

namespace station::issuance {
namespace {

using Asn1ObjectPtr = OsslPtr<ASN1_OBJECT, ASN1_OBJECT_free>;
using GeneralNamesPtr = OsslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using GeneralNamePtr = OsslPtr<GENERAL_NAME, GENERAL_NAME_free>;

// RFC 4108 5: id-on-hardwareModuleName.
constexpr const char* kHardwareModuleNameOid = "1.3.6.1.5.5.7.8.4";
// RFC 5280 4.1.2.5: "no well-defined expiration date".
constexpr const char* kNoExpiration = "99991231235959Z";

Error BuildError(const std::string& what) {
  return MakeError(Code::kInternal, "CERT_BUILD_FAILED", what + ": " + OpenSslErrors());
}

Error Invalid(const char* reason, const std::string& message) {
  ERR_clear_error();
  return MakeError(Code::kInvalidArgument, reason, message);
}

Error Missing(const std::string& profile, const std::string& what, const std::string& missing) {
  if (missing == "device_id")
    return Invalid("DEVICE_ID_REQUIRED", "profile '" + profile + "' needs a device_id for the " + what);
  return Invalid("ATTRIBUTE_MISSING", "profile '" + profile + "' needs " + missing + " for the " + what);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// Appends an extension's DER to the body of an Extensions SEQUENCE.
Status AppendExtension(Bytes& extensions, const X509_EXTENSION* ext, const std::string& what) {
  Bytes der = ToDer(ext, i2d_X509_EXTENSION);
  if (der.empty()) return BuildError(what);
  extensions.insert(extensions.end(), der.begin(), der.end());
  return {};
}

// RFC 4108 5: HardwareModuleName ::= SEQUENCE { hwType OBJECT IDENTIFIER, hwSerialNum OCTET STRING }
Result<GENERAL_NAME*> HardwareModuleName(const std::string& hw_type, const std::string& serial) {
  if (hw_type.empty() || hw_type.find_first_not_of("0123456789.") != std::string::npos)
    return Invalid("SAN_INVALID", "hardware type '" + hw_type + "' is not a dotted OID");
  Asn1ObjectPtr type(OBJ_txt2obj(hw_type.c_str(), 1));
  if (!type) return Invalid("SAN_INVALID", "hardware type '" + hw_type + "' is not a dotted OID");
  Asn1OctetStringPtr octets(ASN1_OCTET_STRING_new());
  if (!octets ||
      ASN1_OCTET_STRING_set(octets.get(), reinterpret_cast<const unsigned char*>(serial.data()),
                            static_cast<int>(serial.size())) != 1)
    return BuildError("hardwareModuleName");
  Bytes fields = ToDer(type.get(), i2d_ASN1_OBJECT);
  Bytes serial_der = ToDer(octets.get(), i2d_ASN1_OCTET_STRING);
  fields.insert(fields.end(), serial_der.begin(), serial_der.end());
  Bytes sequence = pki::der::Encode(pki::der::kSequence, fields);
  OsslPtr<ASN1_STRING, ASN1_STRING_free> seq(ASN1_STRING_new());
  OsslPtr<ASN1_TYPE, ASN1_TYPE_free> value(ASN1_TYPE_new());
  Asn1ObjectPtr name_type(OBJ_txt2obj(kHardwareModuleNameOid, 1));
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!seq || !value || !name_type || !name ||
      ASN1_STRING_set(seq.get(), sequence.data(), static_cast<int>(sequence.size())) != 1)
    return BuildError("hardwareModuleName");
  ASN1_TYPE_set(value.get(), V_ASN1_SEQUENCE, seq.release());
  if (GENERAL_NAME_set0_othername(name.get(), name_type.get(), value.get()) != 1) return BuildError("hardwareModuleName");
  name_type.release();
  value.release();
  return name.release();
}

Result<GENERAL_NAME*> Ia5Name(int type, const std::string& text) {
  for (unsigned char c : text)
    if (c < 0x21 || c > 0x7e) return Invalid("SAN_INVALID", "SubjectAltName '" + text + "' must be printable ASCII without spaces");
  OsslPtr<ASN1_IA5STRING, ASN1_IA5STRING_free> ia5(ASN1_IA5STRING_new());
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!ia5 || !name || ASN1_STRING_set(ia5.get(), text.data(), static_cast<int>(text.size())) != 1)
    return BuildError("subjectAltName");
  GENERAL_NAME_set0_value(name.get(), type, ia5.release());
  return name.release();
}

Result<X509ExtPtr> ExtensionFromDer(const std::string& oid, bool critical, const Bytes& der) {
  Asn1ObjectPtr obj(OBJ_txt2obj(oid.c_str(), 1));
  Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
  if (!obj || !value || ASN1_OCTET_STRING_set(value.get(), der.data(), static_cast<int>(der.size())) != 1)
    return BuildError("extension " + oid);
  X509ExtPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), critical ? 1 : 0, value.get()));
  if (!ext) return BuildError("extension " + oid);
  return ext;
}

// The station's own clients are told apart by OU (server/caller.h): a device
// certificate that said OU=line would be a line's credential wherever a TLS
// client CA came to trust its issuer. None is issued, whoever wrote the subject.
Status CheckNoStationRole(const X509_NAME* subject) {
  for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_organizationalUnitName, i)) >= 0;) {
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    std::string ou(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                   static_cast<size_t>(ASN1_STRING_length(value)));
    std::transform(ou.begin(), ou.end(), ou.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ou == "line" || ou == "officer")
      return Invalid("SUBJECT_INVALID", "OU '" + ou + "' names a station role; no device certificate carries one");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<CertificateProfile>> CertificateProfile::Create(policy::Profile profile,
                                                                       std::shared_ptr<Issuer> issuer) {
  std::unique_ptr<CertificateProfile> p(new CertificateProfile(std::move(profile), std::move(issuer)));
  const policy::Profile& spec = p->profile_;
  auto refuse = [&](const std::string& what) {
    return MakeError(Code::kFailedPrecondition, "BAD_PROFILE",
                     (spec.file.empty() ? spec.name : spec.file) + ": " + what + ": " + OpenSslErrors());
  };
  for (const auto& field : spec.subject) {
    Asn1ObjectPtr type(OBJ_txt2obj(field.attribute.c_str(), 0));
    if (!type) return refuse("subject attribute " + field.attribute);
    p->subject_types_.push_back(std::move(type));
  }
  ST_ASSIGN_OR_RETURN(p->basic_constraints_, pki::MakeExtension(NID_basic_constraints, "critical,CA:FALSE"));
  auto key_usage = pki::MakeExtension(NID_key_usage, "critical," + Join(spec.key_usage));
  auto rsa_key_usage = pki::MakeExtension(NID_key_usage, "critical," + Join(spec.rsa_key_usage));
  if (!key_usage.ok() || !rsa_key_usage.ok()) return refuse("usage.key_usage");
  p->key_usage_ = std::move(*key_usage);
  p->rsa_key_usage_ = std::move(*rsa_key_usage);
  if (!spec.extended_key_usage.empty()) {
    auto eku = pki::MakeExtension(NID_ext_key_usage, (spec.extended_key_usage_critical ? "critical," : "") +
                                                         Join(spec.extended_key_usage));
    if (!eku.ok()) return refuse("usage.extended_key_usage");
    p->ext_key_usage_ = std::move(*eku);
  }
  for (const auto& ext : spec.extensions) {
    X509ExtPtr fixed;
    if (!ext.der.empty()) {
      ST_ASSIGN_OR_RETURN(fixed, ExtensionFromDer(ext.oid, ext.critical, ext.der));
    }
    p->fixed_extensions_.push_back(std::move(fixed));
  }
  return p;
}

Result<X509NamePtr> CertificateProfile::Subject(const CheckedCsr& csr, const policy::TemplateInput& input,
                                                const CertificateAuthority& ca) const {
  X509NamePtr subject(X509_NAME_new());
  const X509_NAME* issuer = X509_get_subject_name(ca.cert());
  for (size_t i = 0; i < profile_.subject.size(); ++i) {
    const policy::SubjectField& field = profile_.subject[i];
    std::string missing;
    auto value = field.value.Render(input, &missing);
    if (!value) {
      if (field.optional) continue;
      return Missing(profile_.name, "subject " + field.attribute, missing);
    }
    ASN1_OBJECT* type = subject_types_[i].get();
    // String types follow OpenSSL's table (RFC 5280 A.1: countryName and
    // serialNumber are PrintableString); everything else is UTF8String.
    if (X509_NAME_add_entry_by_OBJ(subject.get(), type, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value->data()),
                                   static_cast<int>(value->size()), -1, 0) != 1)
      return Invalid("SUBJECT_INVALID", "'" + *value + "' cannot be the subject's " + field.attribute +
                                            " (too long, or characters its string type does not allow)");
    if (field.match_issuer) {
      int at = X509_NAME_get_index_by_OBJ(issuer, type, -1);
      if (at >= 0) {
        const ASN1_STRING* want = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(issuer, at));
        std::string issuer_value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(want)),
                                 static_cast<size_t>(ASN1_STRING_length(want)));
        if (issuer_value != *value)
          return Invalid("SUBJECT_ISSUER_MISMATCH", "subject " + field.attribute + " '" + *value +
                                                        "' differs from the issuing CA's '" + issuer_value + "'");
      }
    }
  }
  if (X509_NAME_entry_count(subject.get()) > 0) {
    ST_RETURN_IF_ERROR(CheckNoStationRole(subject.get()));
    return subject;
  }
  const X509_NAME* from_csr = csr.subject.get();
  if (profile_.csr_subject_when_empty && from_csr != nullptr && X509_NAME_entry_count(from_csr) > 0) {
    ST_RETURN_IF_ERROR(CheckNoStationRole(from_csr));
    return X509NamePtr(X509_NAME_dup(from_csr));
  }
  return Invalid("SUBJECT_MISSING", "profile '" + profile_.name +
                                        "' yields an empty subject for this request; send a device_id" +
                                        (profile_.csr_subject_when_empty ? " or a CSR with a subject" : ""));
}

Result<Bytes> CertificateProfile::Validity(const CertificateAuthority& ca) const {
  const policy::Validity& v = profile_.validity;
  const time_t now = time(nullptr);
  // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 (ASN1_TIME_adj picks).
  Asn1TimePtr not_before(ASN1_TIME_adj(nullptr, now - v.backdate_seconds, 0, 0));
  Asn1TimePtr not_after(ASN1_TIME_new());
  if (v.no_expiration) {
    if (not_after) ASN1_TIME_set_string_X509(not_after.get(), kNoExpiration);
  } else {
    time_t until = now + v.duration_seconds;
    // A chain that expires before its leaf is a trap for the device.
    const ASN1_TIME* ca_not_after = X509_get0_notAfter(ca.cert());
    if (v.clamp_to_ca && X509_cmp_time(ca_not_after, &until) < 0 && pki::TimeUnix(ca_not_after) != 0)
      until = static_cast<time_t>(pki::TimeUnix(ca_not_after));
    not_after.reset(ASN1_TIME_adj(not_after.release(), until, 0, 0));
  }
  Bytes body = ToDer(not_before.get(), i2d_ASN1_TIME);
  Bytes end = ToDer(not_after.get(), i2d_ASN1_TIME);
  if (body.empty() || end.empty()) return BuildError("validity");
  body.insert(body.end(), end.begin(), end.end());
  return pki::der::Encode(pki::der::kSequence, body);
}

Status CertificateProfile::AddSan(Bytes& extensions, const policy::TemplateInput& input) const {
  if (profile_.san.empty()) return {};
  GeneralNamesPtr names(GENERAL_NAMES_new());
  for (const policy::SanEntry& entry : profile_.san) {
    std::string missing;
    auto value = entry.value.Render(input, &missing);
    std::optional<std::string> hw_type;
    if (value && entry.kind == policy::SanEntry::Kind::kHardwareModuleName) hw_type = entry.hw_type.Render(input, &missing);
    if (!value || (entry.kind == policy::SanEntry::Kind::kHardwareModuleName && !hw_type)) {
      if (entry.optional) continue;
      return Missing(profile_.name, "SubjectAltName", missing);
    }
    Result<GENERAL_NAME*> name = BuildError("subjectAltName");
    switch (entry.kind) {
      case policy::SanEntry::Kind::kUri: name = Ia5Name(GEN_URI, *value); break;
      case policy::SanEntry::Kind::kDns: name = Ia5Name(GEN_DNS, *value); break;
      case policy::SanEntry::Kind::kEmail: name = Ia5Name(GEN_EMAIL, *value); break;
      case policy::SanEntry::Kind::kHardwareModuleName: name = HardwareModuleName(*hw_type, *value); break;
    }
    if (!name.ok()) return name.error();
    sk_GENERAL_NAME_push(names.get(), *name);
  }
  if (sk_GENERAL_NAME_num(names.get()) == 0) return {};
  // RFC 5280 4.2.1.6: non-critical, since the subject is never empty here.
  X509ExtPtr san(X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
  if (!san) return BuildError("subjectAltName");
  return AppendExtension(extensions, san.get(), "subjectAltName");
}

Status CertificateProfile::AddExtraExtensions(Bytes& extensions, const policy::TemplateInput& input) const {
  for (size_t i = 0; i < profile_.extensions.size(); ++i) {
    const policy::ExtraExtension& spec = profile_.extensions[i];
    if (fixed_extensions_[i]) {
      ST_RETURN_IF_ERROR(AppendExtension(extensions, fixed_extensions_[i].get(), "extension " + spec.oid));
      continue;
    }
    std::string missing;
    auto value = spec.utf8.Render(input, &missing);
    if (!value) return Missing(profile_.name, "extension " + spec.oid, missing);
    OsslPtr<ASN1_UTF8STRING, ASN1_UTF8STRING_free> utf8(ASN1_UTF8STRING_new());
    if (!utf8 || ASN1_STRING_set(utf8.get(), value->data(), static_cast<int>(value->size())) != 1)
      return BuildError("extension " + spec.oid);
    Bytes der = ToDer(utf8.get(), i2d_ASN1_UTF8STRING);
    ST_ASSIGN_OR_RETURN(X509ExtPtr ext, ExtensionFromDer(spec.oid, spec.critical, der));
    ST_RETURN_IF_ERROR(AppendExtension(extensions, ext.get(), "extension " + spec.oid));
  }
  return {};
}

Result<UnsignedCertificate> CertificateProfile::Build(const CheckedCsr& csr, const policy::TemplateInput& input,
                                                      const ASN1_INTEGER* serial,
                                                      const CertificateAuthority& ca) const {
  namespace der = pki::der;
  UnsignedCertificate out;
  ST_ASSIGN_OR_RETURN(out.subject, Subject(csr, input, ca));
  ST_ASSIGN_OR_RETURN(Bytes validity, Validity(ca));
  Asn1OctetStringPtr ski(ASN1_OCTET_STRING_new());
  if (!ski || ASN1_OCTET_STRING_set(ski.get(), csr.key_identifier.data(), static_cast<int>(csr.key_identifier.size())) != 1)
    return BuildError("subjectKeyIdentifier");
  X509ExtPtr ski_ext(X509V3_EXT_i2d(NID_subject_key_identifier, 0, ski.get()));
  if (!ski_ext) return BuildError("subjectKeyIdentifier");
  Bytes extensions;
  ST_RETURN_IF_ERROR(AppendExtension(extensions, basic_constraints_.get(), "basicConstraints"));
  ST_RETURN_IF_ERROR(AppendExtension(extensions, csr.rsa ? rsa_key_usage_.get() : key_usage_.get(), "keyUsage"));
  if (ext_key_usage_) ST_RETURN_IF_ERROR(AppendExtension(extensions, ext_key_usage_.get(), "extendedKeyUsage"));
  ST_RETURN_IF_ERROR(AppendExtension(extensions, ski_ext.get(), "subjectKeyIdentifier"));
  ST_RETURN_IF_ERROR(AppendExtension(extensions, ca.authority_key_id(), "authorityKeyIdentifier"));
  ST_RETURN_IF_ERROR(AddSan(extensions, input));
  ST_RETURN_IF_ERROR(AddExtraExtensions(extensions, input));

  // TBSCertificate (RFC 5280 4.1): version v3, serial, signature, issuer,
  // validity, subject, the CSR's own SubjectPublicKeyInfo, extensions.
  Bytes body;
  der::Append(body, der::Context(0), der::Encode(der::kInteger, Bytes{0x02}));
  for (const Bytes& part : {ToDer(serial, i2d_ASN1_INTEGER), ca.signature_algorithm_der(), ca.subject_der(), validity,
                            ToDer(out.subject.get(), i2d_X509_NAME), csr.spki_der}) {
    if (part.empty()) return BuildError("certificate fields");
    body.insert(body.end(), part.begin(), part.end());
  }
  der::Append(body, der::Context(3), der::Encode(der::kSequence, extensions));
  out.tbs_der = der::Encode(der::kSequence, body);
  return out;
}

}  // namespace station::issuance
