#include "station/issuance/csr.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "station/pki/der.h"
#include "station/policy/key_checks.h"
#include "station/policy/profile.h"

namespace station::issuance {
namespace {

namespace der = pki::der;


Error Refuse(const std::string& reason, const std::string& message) {
  ERR_clear_error();
  return MakeError(Code::kInvalidArgument, reason, message);
}

Error NotCanonical(const std::string& what) {
  return Refuse("KEY_NOT_CANONICAL", "the CSR's public key is not in its one canonical encoding: " + what);
}

Error Malformed(const std::string& what) { return Refuse("CSR_MALFORMED", "csr_der is not a DER-encoded PKCS#10 request: " + what); }

// The parts of a CertificationRequest (RFC 2986 4) the station uses.
struct Parts {
  der::View info;       // certificationRequestInfo, as signed
  der::View subject;    // Name
  der::View spki;       // SubjectPublicKeyInfo
  der::View key_algorithm;  // its AlgorithmIdentifier
  der::View key_bits;       // its subjectPublicKey
  der::View signature_algorithm;
  der::View signature;
};

Result<Parts> Split(const Bytes& csr_der) {
  Parts p;
  der::View in(csr_der);
  der::Element request, info, algorithm, signature;
  if (!der::Read(in, der::kSequence, request)) return Malformed("(PEM must be converted to DER)");
  if (!in.empty()) return Malformed(std::to_string(in.size()) + " trailing bytes after the request");
  der::View body = request.content;
  if (!der::Read(body, der::kSequence, info) || !der::Read(body, der::kSequence, algorithm) ||
      !der::Read(body, der::kBitString, signature) || !body.empty() || !der::WholeBytes(signature, p.signature))
    return Malformed("it is not request info, signature algorithm and signature");
  p.info = info.whole;
  p.signature_algorithm = algorithm.whole;
  der::View fields = info.content;
  der::Element version, subject, spki, attributes;
  if (!der::Read(fields, der::kInteger, version) || version.content.size() != 1 || version.content[0] != 0)
    return Malformed("its version is not 0 (v1)");
  if (!der::Read(fields, der::kSequence, subject) || !der::Read(fields, der::kSequence, spki))
    return Malformed("no subject and public key");
  // [0] attributes: required by RFC 2986, left out by some encoders.
  if (!fields.empty() && (!der::Read(fields, der::Context(0), attributes) || !fields.empty()))
    return Malformed("unexpected fields after the attributes");
  p.subject = subject.whole;
  p.spki = spki.whole;
  der::View key = spki.content;
  der::Element key_algorithm, key_bits;
  if (!der::Read(key, der::kSequence, key_algorithm) || !der::Read(key, der::kBitString, key_bits) || !key.empty() ||
      !der::WholeBytes(key_bits, p.key_bits))
    return Malformed("its SubjectPublicKeyInfo is not an algorithm and a key");
  p.key_algorithm = key_algorithm.content;
  return p;
}

int OidNid(const der::Element& oid) {
  const unsigned char* p = oid.whole.data();
  OsslPtr<ASN1_OBJECT, ASN1_OBJECT_free> object(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(oid.whole.size())));
  return object ? OBJ_obj2nid(object.get()) : NID_undef;
}

// An attribute value a certificate may carry: a string type of RFC 5280
// A.1's DirectoryString family (or IA5String, as for emailAddress) holding
// no control character or NUL, which would print as something else.
// (d2i_X509_NAME has refused UTF8Strings that are not UTF-8.)
Status CheckSubjectValue(const X509_NAME_ENTRY* entry) {
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(entry);
  const int type = ASN1_STRING_type(value);
  if (type != V_ASN1_UTF8STRING && type != V_ASN1_PRINTABLESTRING && type != V_ASN1_IA5STRING)
    return Refuse("SUBJECT_INVALID", std::string("the CSR's subject holds a ") + ASN1_tag2str(type) +
                                         "; use UTF8String, PrintableString or IA5String");
  const unsigned char* s = ASN1_STRING_get0_data(value);
  const size_t n = static_cast<size_t>(ASN1_STRING_length(value));
  for (size_t i = 0; i < n; ++i)
    if (s[i] < 0x20 || s[i] == 0x7f || (type != V_ASN1_UTF8STRING && s[i] > 0x7f) ||
        (type == V_ASN1_PRINTABLESTRING && !std::isalnum(s[i]) && !std::strchr(" '()+,-./:=?", s[i])))
      return Refuse("SUBJECT_INVALID", "the CSR's subject holds a control character, NUL or a byte its string "
                                       "type does not allow");
  return {};
}

// The CSR's subject rebuilt from its parsed attributes: OpenSSL would keep
// the bytes as received (BER lengths and all) and write them into the
// certificate; a fresh X509_NAME is encoded by DER rules (X.690 10-11).
Result<X509NamePtr> CanonicalSubject(der::View subject_der) {
  const unsigned char* p = subject_der.data();
  X509NamePtr parsed(d2i_X509_NAME(nullptr, &p, static_cast<long>(subject_der.size())));
  if (!parsed || p != subject_der.data() + subject_der.size()) return Malformed("its subject is not a Name");
  X509NamePtr out(X509_NAME_new());
  if (!out) return Malformed("its subject cannot be copied");
  int last_set = -1;
  for (int i = 0; i < X509_NAME_entry_count(parsed.get()); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(parsed.get(), i);
    ST_RETURN_IF_ERROR(CheckSubjectValue(entry));
    const int set = X509_NAME_ENTRY_set(entry);
    // set -1 joins the previous RDN: a multi-valued RDN stays one.
    if (X509_NAME_add_entry(out.get(), entry, -1, i > 0 && set == last_set ? -1 : 0) != 1)
      return Malformed("its subject cannot be copied");
    last_set = set;
  }
  return out;
}

// The device's key, and its kind as policy names it ("ec-p256", "rsa-2048").
struct DeviceKey {
  EvpPkeyPtr key;
  std::string type;
  bool rsa = false;
  Bytes spki_der;  // re-encoded from the parsed key (CanonicalSpki)
  Bytes key_bits;  // its subjectPublicKey
};

// The contents of the AlgorithmIdentifier of each key the station accepts
// (X.690 8.19 OIDs): id-ecPublicKey with its named curve (RFC 5480 2.1.1),
// rsaEncryption with NULL (RFC 3279 2.3.1).
constexpr uint8_t kEcP256Algorithm[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr uint8_t kEcP384Algorithm[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                        0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr uint8_t kRsaEncryptionNull[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

// SubjectPublicKeyInfo (RFC 5280 4.1.2.7) written afresh from the key's
// parsed parts: what the certificate, its SKI and the duplicate-key hash use,
// so no encoding the device chose reaches them.
Bytes CanonicalSpki(der::View algorithm_and_parameters, const Bytes& key_bits) {
  Bytes body = der::Encode(der::kSequence, algorithm_and_parameters);
  Bytes bits = der::BitString(key_bits);
  body.insert(body.end(), bits.begin(), bits.end());
  return der::Encode(der::kSequence, body);
}

Result<EvpPkeyPtr> FromParams(const char* type, OSSL_PARAM* params, int selection = EVP_PKEY_PUBLIC_KEY) {
  OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 || EVP_PKEY_fromdata(ctx.get(), &key, selection, params) != 1)
    return Refuse("KEY_UNSUPPORTED", "the CSR's public key cannot be decoded");
  return EvpPkeyPtr(key);
}

// A key holding only a named curve's parameters, copied for each device key.
EvpPkeyPtr CurveTemplate(const char* group) {
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
                         OSSL_PARAM_construct_end()};
  auto key = FromParams("EC", params, EVP_PKEY_KEY_PARAMETERS);
  return key.ok() ? std::move(*key) : nullptr;  // null: EcKey refuses every key of that curve
}

Result<DeviceKey> EcKey(der::View parameters, der::View point) {
  der::Element curve;
  if (!der::Read(parameters, der::kOid, curve) || !parameters.empty())
    return Refuse("KEY_UNSUPPORTED", "the CSR's EC key uses explicit curve parameters; use named curve P-256 or P-384");
  const int nid = OidNid(curve);
  const char* group = nid == NID_X9_62_prime256v1 ? "P-256" : nid == NID_secp384r1 ? "P-384" : nullptr;
  if (group == nullptr)
    return Refuse("KEY_UNSUPPORTED", std::string("the CSR's EC key is on curve ") +
                                         (nid == NID_undef ? "(unknown)" : OBJ_nid2sn(nid)) + "; use P-256 or P-384");
  ST_RETURN_IF_ERROR(policy::CheckEcPoint(nid, point.data(), point.size()));
  // SEC 1 2.3.3: one key has three encodings (uncompressed, compressed,
  // hybrid); only the uncompressed one is accepted, so a key is certified once.
  const size_t field_bytes = nid == NID_X9_62_prime256v1 ? 32 : 48;
  if (point.size() != 1 + 2 * field_bytes || point[0] != 0x04)
    return NotCanonical("its EC point is compressed or hybrid; send the uncompressed point (04 || X || Y)");
  // Building the curve from its name costs more than the rest of the key
  // (~20 µs a request); a copy of a parameters-only key shares its precomputation.
  static const EvpPkeyPtr p256 = CurveTemplate("P-256"), p384 = CurveTemplate("P-384");
  const EVP_PKEY* curve_template = nid == NID_X9_62_prime256v1 ? p256.get() : p384.get();
  DeviceKey out;
  out.key.reset(curve_template ? EVP_PKEY_dup(const_cast<EVP_PKEY*>(curve_template)) : nullptr);
  if (!out.key || EVP_PKEY_set1_encoded_public_key(out.key.get(), point.data(), point.size()) != 1)
    return Refuse("KEY_UNSUPPORTED", "the CSR's public key cannot be decoded");
  out.type = nid == NID_X9_62_prime256v1 ? "ec-p256" : "ec-p384";
  out.key_bits.assign(point.begin(), point.end());
  out.spki_der = CanonicalSpki(nid == NID_X9_62_prime256v1 ? der::View(kEcP256Algorithm) : der::View(kEcP384Algorithm),
                               out.key_bits);
  return out;
}

// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1).
// Its size and the weak-key checks come before anything is built from it.
Result<DeviceKey> RsaKey(der::View bits) {
  auto undecodable = [] { return Refuse("KEY_UNSUPPORTED", "the CSR's RSA public key cannot be decoded"); };
  der::Element seq, n, e;
  if (!der::Read(bits, der::kSequence, seq) || !bits.empty()) return undecodable();
  der::View body = seq.content;
  if (!der::Read(body, der::kInteger, n) || !der::Read(body, der::kInteger, e) || !body.empty() ||
      n.content.empty() || e.content.empty() || (n.content[0] & 0x80) || (e.content[0] & 0x80))
    return undecodable();
  // X.690 8.3.2: an INTEGER in its fewest octets (a zero octet only before a set top bit).
  for (const der::Element* integer : {&n, &e})
    if (integer->content.size() > 1 && integer->content[0] == 0 && !(integer->content[1] & 0x80))
      return NotCanonical("its RSA modulus or exponent has leading zero octets");
  BnPtr modulus(BN_bin2bn(n.content.data(), static_cast<int>(n.content.size()), nullptr));
  BnPtr exponent(BN_bin2bn(e.content.data(), static_cast<int>(e.content.size()), nullptr));
  if (!modulus || !exponent) return undecodable();
  const int size = BN_num_bits(modulus.get());
  if (size < policy::kMinRsaBits)
    return Refuse("RSA_TOO_SHORT", "the CSR's RSA key has " + std::to_string(size) + " bits; at least " +
                                       std::to_string(policy::kMinRsaBits) + " are required");
  if (size > policy::kMaxRsaBits)
    return Refuse("KEY_UNSUPPORTED", "the CSR's RSA key has " + std::to_string(size) + " bits; at most " +
                                         std::to_string(policy::kMaxRsaBits) + " are accepted");
  ST_RETURN_IF_ERROR(policy::CheckRsaPublicKey(modulus.get(), exponent.get()));
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> build(OSSL_PARAM_BLD_new());
  if (!build ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1)
    return undecodable();
  OsslPtr<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(build.get()));
  if (!params) return undecodable();
  DeviceKey out;
  ST_ASSIGN_OR_RETURN(out.key, FromParams("RSA", params.get()));
  out.type = "rsa-" + std::to_string(size);
  out.rsa = true;
  Bytes integers = der::Encode(der::kInteger, n.content);
  der::Append(integers, der::kInteger, e.content);
  out.key_bits = der::Encode(der::kSequence, integers);
  out.spki_der = CanonicalSpki(kRsaEncryptionNull, out.key_bits);
  return out;
}

Result<DeviceKey> PublicKey(const Parts& parts) {
  der::View algorithm = parts.key_algorithm;
  der::Element oid;
  if (!der::Read(algorithm, der::kOid, oid)) return Malformed("its key algorithm has no identifier");
  switch (OidNid(oid)) {
    case NID_X9_62_id_ecPublicKey:
      return EcKey(algorithm, parts.key_bits);
    case NID_rsaEncryption:
      // RFC 3279 2.3.1: the parameters are NULL, and nothing else.
      if (algorithm.size() != 2 || algorithm[0] != der::kNull || algorithm[1] != 0)
        return NotCanonical("rsaEncryption's parameters must be NULL");
      return RsaKey(parts.key_bits);
    default:
      return Refuse("KEY_UNSUPPORTED", "the CSR's key is neither EC (P-256, P-384) nor RSA (2048-4096 bits)");
  }
}

// PKCS#10 4.2: the request is signed with the subject's private key.
Status CheckSignature(const Parts& parts, EVP_PKEY* key, bool rsa) {
  der::View outer = parts.signature_algorithm;
  der::Element seq, oid;
  if (!der::Read(outer, der::kSequence, seq)) return Malformed("its signature algorithm is not an AlgorithmIdentifier");
  der::View algorithm = seq.content;
  int md_nid = NID_undef, key_nid = NID_undef;
  if (!der::Read(algorithm, der::kOid, oid) || OBJ_find_sigid_algs(OidNid(oid), &md_nid, &key_nid) != 1)
    return Refuse("CSR_BAD_SIGNATURE", "the CSR's signature algorithm is unknown");
  const EVP_MD* md = md_nid == NID_sha256 ? EVP_sha256() : md_nid == NID_sha384 ? EVP_sha384()
                   : md_nid == NID_sha512 ? EVP_sha512() : nullptr;
  if (md == nullptr || key_nid != (rsa ? NID_rsaEncryption : NID_X9_62_id_ecPublicKey))
    return Refuse("CSR_BAD_SIGNATURE", std::string("the CSR is signed with ") + OBJ_nid2sn(OidNid(oid)) +
                                           "; use ECDSA or PKCS#1 v1.5 with SHA-256, SHA-384 or SHA-512, by its own key");
  OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
      EVP_DigestVerify(ctx.get(), parts.signature.data(), parts.signature.size(), parts.info.data(),
                       parts.info.size()) != 1)
    return Refuse("CSR_BAD_SIGNATURE", "the CSR's signature does not verify with its own public key "
                                       "(proof of possession failed; was the CSR altered?)");
  return {};
}

}  // namespace

Result<CheckedCsr> CheckCsr(const Bytes& csr_der, size_t max_bytes) {
  if (csr_der.empty()) return Refuse("CSR_EMPTY", "csr_der is empty; send the DER-encoded PKCS#10 request");
  if (csr_der.size() > max_bytes)
    return Refuse("CSR_TOO_LARGE", "the CSR has " + std::to_string(csr_der.size()) + " bytes; the limit is " +
                                       std::to_string(max_bytes));
  ST_ASSIGN_OR_RETURN(Parts parts, Split(csr_der));
  CheckedCsr out;
  ST_ASSIGN_OR_RETURN(out.subject, CanonicalSubject(parts.subject));
  ST_ASSIGN_OR_RETURN(DeviceKey key, PublicKey(parts));
  out.public_key = std::move(key.key);
  out.key_type = std::move(key.type);
  out.rsa = key.rsa;
  // The checks above leave one encoding per key; this holds them to it.
  if (!std::equal(key.spki_der.begin(), key.spki_der.end(), parts.spki.begin(), parts.spki.end()))
    return NotCanonical("it differs from the key's DER re-encoding");
  ST_RETURN_IF_ERROR(CheckSignature(parts, out.public_key.get(), out.rsa));
  out.spki_der = std::move(key.spki_der);
  out.key_identifier.resize(SHA_DIGEST_LENGTH);
  SHA1(key.key_bits.data(), key.key_bits.size(), out.key_identifier.data());
  out.csr_sha256 = Sha256(csr_der);
  return out;
}

}  // namespace station::issuance
