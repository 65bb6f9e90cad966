#include "station/pki/certificate_der.h"

namespace station::pki {
namespace {

Error Unsupported(const std::string& what) {
  return MakeError(Code::kInternal, "CERT_BUILD_FAILED", "cannot encode " + what);
}

Bytes OidDer(int nid) { return ToDer(OBJ_nid2obj(nid), i2d_ASN1_OBJECT); }

}  // namespace

Result<Bytes> SignatureAlgorithmDer(bool rsa, const EVP_MD* md) {
  int sig_nid = NID_undef;
  if (md == nullptr ||
      OBJ_find_sigid_by_algs(&sig_nid, EVP_MD_get_type(md), rsa ? NID_rsaEncryption : NID_X9_62_id_ecPublicKey) != 1)
    return Unsupported("the signature algorithm");
  Bytes body = OidDer(sig_nid);
  if (rsa) der::Append(body, der::kNull, {});
  return der::Encode(der::kSequence, body);
}

Result<Bytes> SignInput(bool rsa, const EVP_MD* md, der::View tbs) {
  Bytes digest(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(tbs.data(), tbs.size(), digest.data(), &len, md, nullptr) != 1)
    return Unsupported("the digest");
  digest.resize(len);
  if (!rsa) return digest;
  // DigestInfo ::= SEQUENCE { AlgorithmIdentifier { oid, NULL }, OCTET STRING digest }
  Bytes algorithm = OidDer(EVP_MD_get_type(md));
  der::Append(algorithm, der::kNull, {});
  Bytes body = der::Encode(der::kSequence, algorithm);
  der::Append(body, 0x04, digest);
  return der::Encode(der::kSequence, body);
}

Result<Bytes> EcdsaSignatureDer(der::View raw) {
  if (raw.empty() || raw.size() % 2 != 0)
    return MakeError(Code::kInternal, "TOKEN_ERROR", "token returned a malformed ECDSA signature");
  const size_t half = raw.size() / 2;
  Bytes body = UnsignedInteger(raw.subspan(0, half));
  Bytes s = UnsignedInteger(raw.subspan(half));
  body.insert(body.end(), s.begin(), s.end());
  return der::Encode(der::kSequence, body);
}

Bytes CertificateDer(der::View tbs, der::View algorithm, der::View signature) {
  Bytes body(tbs.begin(), tbs.end());
  body.insert(body.end(), algorithm.begin(), algorithm.end());
  Bytes bits = der::BitString(signature);
  body.insert(body.end(), bits.begin(), bits.end());
  return der::Encode(der::kSequence, body);
}

Bytes UnsignedInteger(der::View magnitude) {
  size_t skip = 0;
  while (skip + 1 < magnitude.size() && magnitude[skip] == 0) ++skip;
  Bytes content;
  if (magnitude.empty() || (magnitude[skip] & 0x80)) content.push_back(0);
  content.insert(content.end(), magnitude.begin() + static_cast<long>(skip), magnitude.end());
  return der::Encode(der::kInteger, content);
}

}  // namespace station::pki
