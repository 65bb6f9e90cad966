#include "station/pki/cert_builder.h"

#include <ctime>

#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "hsm/key.h"

namespace station::pki {
namespace {

constexpr size_t kSerialOctets = 16;

void FreeExtensions(STACK_OF(X509_EXTENSION) * exts) { sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free); }

Error BuildError(const std::string& what) {
  return MakeError(Code::kInternal, "CERT_BUILD_FAILED", what + ": " + OpenSslErrors());
}

}  // namespace

Result<Asn1IntegerPtr> RandomSerial() {
  unsigned char bytes[kSerialOctets];
  if (RAND_priv_bytes(bytes, sizeof bytes) != 1) return BuildError("CSPRNG failed");
  bytes[0] &= 0x7f;  // positive
  if (bytes[0] == 0) bytes[0] = 0x01;  // keep all 16 octets significant
  BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  Asn1IntegerPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!serial) return BuildError("cannot encode serial");
  return serial;
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex != nullptr ? hex : "");
  OPENSSL_free(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

Result<X509NamePtr> ParseName(const std::string& text) {
  X509NamePtr name(X509_NAME_new());
  std::string s = text;
  char sep = ',';
  if (!s.empty() && s[0] == '/') {
    sep = '/';
    s = s.substr(1);
  }
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? s.size() + 1 : end + 1;
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == part.size())
      return MakeError(Code::kInvalidArgument, "BAD_NAME", "'" + part + "' in name '" + text + "' is not TYPE=value");
    std::string type = part.substr(0, eq);
    std::string value = part.substr(eq + 1);
    if (X509_NAME_add_entry_by_txt(name.get(), type.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1)
      return MakeError(Code::kInvalidArgument, "BAD_NAME",
                       "cannot use '" + part + "' in name '" + text + "': " + OpenSslErrors());
  }
  if (X509_NAME_entry_count(name.get()) == 0)
    return MakeError(Code::kInvalidArgument, "BAD_NAME", "name '" + text + "' is empty");
  return name;
}

std::string TimeText(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t TimeUnix(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

Bytes KeyIdentifier(X509_PUBKEY* spki) {
  const unsigned char* pk = nullptr;
  int pk_len = 0;
  if (X509_PUBKEY_get0_param(nullptr, &pk, &pk_len, nullptr, spki) != 1) return {};
  Bytes out(SHA_DIGEST_LENGTH);
  SHA1(pk, static_cast<size_t>(pk_len), out.data());
  return out;
}

Bytes CaKeyId(X509* ca) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(ca);
  if (ski == nullptr) return KeyIdentifier(X509_get_X509_PUBKEY(ca));
  return Bytes(ASN1_STRING_get0_data(ski), ASN1_STRING_get0_data(ski) + ASN1_STRING_length(ski));
}

Result<X509ExtPtr> MakeExtension(int nid, const std::string& value, X509* cert, X509* issuer) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) return BuildError(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  return ext;
}

const EVP_MD* DigestFor(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && EVP_PKEY_get_bits(key) == 384) return EVP_sha384();
  return EVP_sha256();
}

Status SignCert(X509* cert, EVP_PKEY* key, const EVP_MD* md) {
  if (X509_sign(cert, key, md) <= 0) return hsm::TokenKey::LastSignError();
  return {};
}

Status SignCsr(X509_REQ* csr, EVP_PKEY* key, const EVP_MD* md) {
  if (X509_REQ_sign(csr, key, md) <= 0) return hsm::TokenKey::LastSignError();
  return {};
}

Result<X509Ptr> MakeCert(const CertSpec& spec, EVP_PKEY* subject_key, EVP_PKEY* issuer_key, X509* issuer_cert) {
  X509Ptr cert(X509_new());
  ST_ASSIGN_OR_RETURN(auto serial, RandomSerial());
  ST_ASSIGN_OR_RETURN(auto subject, ParseName(spec.subject));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || X509_set_serialNumber(cert.get(), serial.get()) != 1 ||
      X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer_cert ? X509_get_subject_name(issuer_cert) : subject.get()) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(spec.starts_in_days) * 86400 - 3600) ==
          nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                      static_cast<long>(spec.starts_in_days + spec.validity_days) * 86400) == nullptr ||
      X509_set_pubkey(cert.get(), subject_key) != 1)
    return BuildError("certificate fields");
  std::vector<std::pair<int, std::string>> exts;
  if (spec.is_ca) {
    std::string bc = "critical,CA:TRUE";
    if (spec.path_len >= 0) bc += ",pathlen:" + std::to_string(spec.path_len);
    exts.emplace_back(NID_basic_constraints, bc);
    exts.emplace_back(NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    exts.emplace_back(NID_basic_constraints, "critical,CA:FALSE");
    exts.emplace_back(NID_key_usage, "critical,digitalSignature,keyEncipherment");
  }
  if (!spec.extended_key_usage.empty()) exts.emplace_back(NID_ext_key_usage, spec.extended_key_usage);
  if (!spec.san.empty()) {
    std::string san;
    for (const auto& s : spec.san) san += (san.empty() ? "" : ",") + s;
    exts.emplace_back(NID_subject_alt_name, san);
  }
  exts.emplace_back(NID_subject_key_identifier, "hash");
  exts.emplace_back(NID_authority_key_identifier, "keyid:always");
  for (const auto& [nid, value] : exts) {
    ST_ASSIGN_OR_RETURN(auto ext, MakeExtension(nid, value, cert.get(), issuer_cert ? issuer_cert : cert.get()));
    if (X509_add_ext(cert.get(), ext.get(), -1) != 1) return BuildError("adding extension");
  }
  ST_RETURN_IF_ERROR(SignCert(cert.get(), issuer_key, DigestFor(issuer_key)));
  return cert;
}

Result<X509ReqPtr> MakeCaCsr(const std::string& subject_text, EVP_PKEY* key) {
  X509ReqPtr csr(X509_REQ_new());
  ST_ASSIGN_OR_RETURN(auto subject, ParseName(subject_text));
  if (X509_REQ_set_version(csr.get(), 0) != 1 || X509_REQ_set_subject_name(csr.get(), subject.get()) != 1 ||
      X509_REQ_set_pubkey(csr.get(), key) != 1)
    return BuildError("request fields");
  OsslPtr<STACK_OF(X509_EXTENSION), FreeExtensions> exts(sk_X509_EXTENSION_new_null());
  for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"}}) {
    ST_ASSIGN_OR_RETURN(auto ext, MakeExtension(nid, value));
    sk_X509_EXTENSION_push(exts.get(), ext.release());
  }
  if (X509_REQ_add_extensions(csr.get(), exts.get()) != 1) return BuildError("request extensions");
  ST_RETURN_IF_ERROR(SignCsr(csr.get(), key, DigestFor(key)));
  return csr;
}

Result<EvpPkeyPtr> GenerateSoftwareKey(const std::string& algorithm) {
  EVP_PKEY* key = nullptr;
  if (algorithm == "ec-p256") key = EVP_EC_gen("P-256");
  else if (algorithm == "ec-p384") key = EVP_EC_gen("P-384");
  else if (algorithm == "rsa-2048") key = EVP_RSA_gen(2048);
  else if (algorithm == "rsa-3072") key = EVP_RSA_gen(3072);
  else
    return MakeError(Code::kInvalidArgument, "UNSUPPORTED_KEY_ALGORITHM",
                     "unknown key algorithm '" + algorithm + "' (use ec-p256, ec-p384, rsa-2048 or rsa-3072)");
  if (key == nullptr) return BuildError("key generation");
  return EvpPkeyPtr(key);
}

}  // namespace station::pki
