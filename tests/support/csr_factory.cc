#include "tests/support/csr_factory.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cstdlib>

#include "station/pki/cert_builder.h"
#include "station/pki/der.h"

namespace station::testing {

TestCsr MakeCsr(const std::string& key_type, const std::string& cn) {
  TestCsr out;
  EVP_PKEY* key = nullptr;
  if (key_type == "ec-p256") key = EVP_EC_gen("P-256");
  else if (key_type == "ec-p384") key = EVP_EC_gen("P-384");
  else if (key_type == "ec-p521") key = EVP_EC_gen("P-521");
  else if (key_type.rfind("rsa-", 0) == 0) key = EVP_RSA_gen(static_cast<unsigned>(std::atoi(key_type.c_str() + 4)));
  if (key == nullptr) std::abort();
  out.key.reset(key);
  out.der = MakeCsrForKey(key, cn);
  return out;
}

Bytes MakeCsrForKey(EVP_PKEY* key, const std::string& cn) {
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  if (X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) std::abort();
  return CsrDer(req.get());
}

namespace {

using BnCtxPtr = OsslPtr<BN_CTX, BN_CTX_free>;

// An RSA private key from its primes (d and the CRT values computed here).
EvpPkeyPtr RsaFromPrimes(const BIGNUM* p, const BIGNUM* q, unsigned long e_word) {
  BnCtxPtr ctx(BN_CTX_new());
  BnPtr n(BN_new()), e(BN_new()), d(BN_new()), p1(BN_new()), q1(BN_new()), phi(BN_new()), dp(BN_new()), dq(BN_new()),
      qinv(BN_new());
  BN_set_word(e.get(), e_word);
  BN_mul(n.get(), p, q, ctx.get());
  BN_sub(p1.get(), p, BN_value_one());
  BN_sub(q1.get(), q, BN_value_one());
  BN_mul(phi.get(), p1.get(), q1.get(), ctx.get());
  if (!BN_mod_inverse(d.get(), e.get(), phi.get(), ctx.get())) return nullptr;
  BN_mod(dp.get(), d.get(), p1.get(), ctx.get());
  BN_mod(dq.get(), d.get(), q1.get(), ctx.get());
  BN_mod_inverse(qinv.get(), q, p, ctx.get());
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  EVP_PKEY_fromdata_init(pctx.get());
  EVP_PKEY_fromdata(pctx.get(), &key, EVP_PKEY_KEYPAIR, params);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return EvpPkeyPtr(key);
}

BnPtr RandomPrime(int bits) {
  BnPtr p(BN_new());
  if (!BN_generate_prime_ex(p.get(), bits, 0, nullptr, nullptr, nullptr)) std::abort();
  return p;
}

// The next prime after x (x odd or even).
BnPtr NextPrime(const BIGNUM* x) {
  BnCtxPtr ctx(BN_CTX_new());
  BnPtr p(BN_dup(x));
  if (!BN_is_odd(p.get())) BN_add_word(p.get(), 1);
  do BN_add_word(p.get(), 2);
  while (BN_check_prime(p.get(), ctx.get(), nullptr) != 1);
  return p;
}

// A prime of RSALib's form k*M + (65537^a mod M), M the product of the
// primes up to 167 (the structure the ROCA fingerprint detects).
BnPtr RocaPrime(int bits) {
  BnCtxPtr ctx(BN_CTX_new());
  BnPtr m(BN_new()), g(BN_new()), a(BN_new()), ga(BN_new()), k(BN_new()), p(BN_new());
  BN_one(m.get());
  for (unsigned prime : {2u, 3u, 5u, 7u, 11u, 13u, 17u, 19u, 23u, 29u, 31u, 37u, 41u, 43u, 47u, 53u, 59u, 61u, 67u,
                         71u, 73u, 79u, 83u, 89u, 97u, 101u, 103u, 107u, 109u, 113u, 127u, 131u, 137u, 139u, 149u,
                         151u, 157u, 163u, 167u})
    BN_mul_word(m.get(), prime);
  BN_set_word(g.get(), 65537);
  for (;;) {
    BN_rand(a.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_mod_exp(ga.get(), g.get(), a.get(), m.get(), ctx.get());
    BN_rand(k.get(), bits - BN_num_bits(m.get()), BN_RAND_TOP_TWO, BN_RAND_BOTTOM_ANY);
    BN_mul(p.get(), k.get(), m.get(), ctx.get());
    BN_add(p.get(), p.get(), ga.get());
    if (BN_num_bits(p.get()) == bits && BN_check_prime(p.get(), ctx.get(), nullptr) == 1) return p;
  }
}

}  // namespace

EvpPkeyPtr MakeWeakRsaKey(const std::string& weakness) {
  if (weakness == "small-factor") {
    BnPtr small(BN_new());
    BN_set_word(small.get(), 65521);  // the largest prime below 2^16
    BnPtr q = RandomPrime(2048 - 16);
    return RsaFromPrimes(q.get(), small.get(), 65537);
  }
  if (weakness == "fermat") {
    BnPtr p = RandomPrime(1024);
    BnPtr q = NextPrime(p.get());
    return RsaFromPrimes(q.get(), p.get(), 65537);
  }
  if (weakness == "roca") {
    BnPtr p = RocaPrime(1040), q = RocaPrime(1040);  // n comfortably above 2048 bits
    return RsaFromPrimes(p.get(), q.get(), 65537);
  }
  if (weakness == "exponent-3") {
    for (;;) {
      BnPtr p = RandomPrime(1024), q = RandomPrime(1024);
      if (auto key = RsaFromPrimes(p.get(), q.get(), 3)) return key;  // needs gcd(3, phi) = 1
    }
  }
  std::abort();
}

Bytes MakeCsrWithBadEcPoint(const std::string& which) {
  TestCsr good = MakeCsr("ec-p256");
  const unsigned char* p = good.der.data();
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(good.der.size())));
  X509_PUBKEY* spki = X509_REQ_get_X509_PUBKEY(req.get());
  Bytes point(65, 0);
  if (which == "off-curve") {
    // (1, 1) is not on P-256: 1 != 1 - 3 + b (mod p).
    point[0] = 0x04;
    point[32] = 1;
    point[64] = 1;
  } else {
    point.assign(1, 0x00);  // SEC 1 2.3.3: the point at infinity
  }
  unsigned char* copy = static_cast<unsigned char*>(OPENSSL_memdup(point.data(), point.size()));
  X509_PUBKEY_set0_param(spki, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                         OBJ_nid2obj(NID_X9_62_prime256v1), copy, static_cast<int>(point.size()));
  // Re-encode the request info from the changed fields (the signature no longer matches).
  X509_REQ_set_subject_name(req.get(), X509_REQ_get_subject_name(req.get()));
  return CsrDer(req.get());
}

Bytes MakeCsrFromParts(EVP_PKEY* key, const Bytes& spki_der, const Bytes& subject_der) {
  namespace der = pki::der;
  Bytes info = der::Encode(der::kInteger, Bytes{0});
  info.insert(info.end(), subject_der.begin(), subject_der.end());
  info.insert(info.end(), spki_der.begin(), spki_der.end());
  der::Append(info, der::Context(0), Bytes{});
  info = der::Encode(der::kSequence, info);
  size_t sig_len = 0;
  OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, info.data(), info.size()) != 1)
    std::abort();
  Bytes signature(sig_len);
  if (EVP_DigestSign(ctx.get(), signature.data(), &sig_len, info.data(), info.size()) != 1) std::abort();
  signature.resize(sig_len);
  const bool rsa = EVP_PKEY_is_a(key, "RSA");
  ASN1_OBJECT* oid = OBJ_nid2obj(rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256);  // static
  Bytes algorithm = ToDer(oid, i2d_ASN1_OBJECT);
  if (rsa) algorithm.insert(algorithm.end(), {der::kNull, 0x00});
  Bytes body = info;
  der::Append(body, der::kSequence, algorithm);
  Bytes bits = der::BitString(signature);
  body.insert(body.end(), bits.begin(), bits.end());
  return der::Encode(der::kSequence, body);
}

Bytes SubjectDer(const std::string& cn) {
  X509NamePtr name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.data()),
                             static_cast<int>(cn.size()), -1, 0);
  return ToDer(name.get(), i2d_X509_NAME);
}

Bytes TamperSignature(const Bytes& der) {
  Bytes out = der;
  out[out.size() - 5] ^= 0x01;  // inside the signature BIT STRING at the end
  return out;
}

}  // namespace station::testing
