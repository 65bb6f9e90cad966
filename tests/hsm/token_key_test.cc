// The token layer against a real SoftHSM token made for each test.
#include <gtest/gtest.h>
#include <libp11.h>

#include <atomic>
#include <thread>

#include "hsm/keygen.h"
#include "tests/support/bare_token.h"

namespace station::hsm {
namespace {

// A bare token with one P-256 key pair, "ca-key", made in it.
struct TokenWithKey {
  std::unique_ptr<testing::BareToken> bare = testing::MakeBareToken();
  std::shared_ptr<TokenKey> key = bare ? testing::MakeTokenKey(*bare, KeyAlgorithm::kEcP256, "ca-key") : nullptr;
};

// Signs with the token key through OpenSSL and verifies with a plain copy of
// the public key, so a wrong signature cannot pass.
void ExpectSignsVerifiably(TokenKey& key) {
  const std::string message = "tbs bytes";
  EvpMdCtxPtr sign_ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestSignInit(sign_ctx.get(), nullptr, key.digest(), nullptr, key.evp()), 1);
  size_t sig_len = 0;
  ASSERT_EQ(EVP_DigestSign(sign_ctx.get(), nullptr, &sig_len,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size()), 1);
  Bytes sig(sig_len);
  ASSERT_EQ(EVP_DigestSign(sign_ctx.get(), sig.data(), &sig_len,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size()), 1)
      << TokenKey::LastSignError().ToString();
  sig.resize(sig_len);
  Bytes spki = SpkiDer(key.evp());
  const unsigned char* p = spki.data();
  EvpPkeyPtr plain(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  ASSERT_TRUE(plain);
  EvpMdCtxPtr verify_ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestVerifyInit(verify_ctx.get(), nullptr, key.digest(), nullptr, plain.get()), 1);
  EXPECT_EQ(EVP_DigestVerify(verify_ctx.get(), sig.data(), sig.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()), 1);
  Bytes other = sig;
  other[other.size() / 2] ^= 1;
  EVP_MD_CTX_reset(verify_ctx.get());
  ASSERT_EQ(EVP_DigestVerifyInit(verify_ctx.get(), nullptr, key.digest(), nullptr, plain.get()), 1);
  EXPECT_NE(EVP_DigestVerify(verify_ctx.get(), other.data(), other.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()), 1);
}

TEST(TokenKeyTest, AGeneratedKeyIsSensitiveNonExtractableAndHasId) {
  TokenWithKey t;
  ASSERT_TRUE(t.key);
  // Found again by its URI, as the station finds its CA key.
  auto uri = ParsePkcs11Uri("pkcs11:token=bare;object=ca-key");
  ASSERT_TRUE(uri.ok());
  auto found = TokenKey::Find(t.bare->token, *uri);
  ASSERT_TRUE(found.ok()) << found.error().ToString();
  std::shared_ptr<TokenKey> key = *found;
  auto sensitive = key->PrivateBoolAttribute(CKA_SENSITIVE);
  auto extractable = key->PrivateBoolAttribute(CKA_EXTRACTABLE);
  auto never_extractable = key->PrivateBoolAttribute(CKA_NEVER_EXTRACTABLE);
  auto local = key->PrivateBoolAttribute(CKA_LOCAL);
  ASSERT_TRUE(sensitive.ok() && extractable.ok() && never_extractable.ok() && local.ok());
  EXPECT_TRUE(*sensitive);
  EXPECT_FALSE(*extractable);
  EXPECT_TRUE(*never_extractable);
  EXPECT_TRUE(*local) << "generated inside the token";
  EXPECT_EQ(key->id().size(), 16u);
  // The secret scalar cannot be read: the token refuses.
  auto value = key->PrivateAttribute(CKA_VALUE);
  ASSERT_FALSE(value.ok());
  EXPECT_NE(value.error().message.find("CKR_ATTRIBUTE_SENSITIVE"), std::string::npos) << value.error().message;
  ExpectSignsVerifiably(*key);
}

TEST(TokenKeyTest, GeneratesAndSignsWithEveryAlgorithm) {
  auto bare = testing::MakeBareToken();
  ASSERT_TRUE(bare);
  std::shared_ptr<Token> token = bare->token;
  for (auto alg : {KeyAlgorithm::kEcP256, KeyAlgorithm::kEcP384, KeyAlgorithm::kRsa2048}) {
    KeygenRequest request;
    request.algorithm = alg;
    request.label = std::string("test-") + KeyAlgorithmName(alg);
    auto key = GenerateKeyPair(token, request);
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    EXPECT_EQ((*key)->algorithm(), alg);
    EXPECT_FALSE(*(*key)->PrivateBoolAttribute(CKA_EXTRACTABLE));
    ExpectSignsVerifiably(**key);
  }
}

TEST(TokenKeyTest, Ed25519KeySignsWithEddsa) {
  auto bare = testing::MakeBareToken();
  ASSERT_TRUE(bare);
  std::shared_ptr<Token> token = bare->token;
  KeygenRequest request;
  request.algorithm = KeyAlgorithm::kEd25519;
  request.label = "test-ed25519";
  auto key = GenerateKeyPair(token, request);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ((*key)->algorithm(), KeyAlgorithm::kEd25519);
  EXPECT_FALSE(*(*key)->PrivateBoolAttribute(CKA_EXTRACTABLE));
  EXPECT_TRUE(*(*key)->PrivateBoolAttribute(CKA_LOCAL));
  const std::string message = "origin\n42\nroot\n";
  auto sig = (*key)->SignRaw(CKM_EDDSA, reinterpret_cast<const uint8_t*>(message.data()), message.size());
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();
  ASSERT_EQ(sig->size(), 64u);
  // OpenSSL verifies the token's signature with the public key read back.
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, (*key)->evp()), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx.get(), sig->data(), sig->size(), reinterpret_cast<const uint8_t*>(message.data()),
                             message.size()),
            1);
}

TEST(TokenKeyTest, KeygenNeverOverwritesAnExistingLabel) {
  TokenWithKey t;
  ASSERT_TRUE(t.key);
  KeygenRequest request;
  request.label = "ca-key";
  auto again = GenerateKeyPair(t.bare->token, request);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason, "KEY_EXISTS");
}

TEST(TokenKeyTest, RecoversFromLostLoginAndLostSessions) {
  TokenWithKey t;
  ASSERT_TRUE(t.key);
  std::shared_ptr<TokenKey> key = t.key;
  Token& token = key->token();
  // Someone (an HSM restart, another tool) logs the application out.
  ASSERT_TRUE(token.Run("C_Logout", [&](CK_SESSION_HANDLE s) { return token.fn()->C_Logout(s); }).ok());
  ExpectSignsVerifiably(*key);
  // Every session vanishes (a network HSM reconnect).
  ASSERT_EQ(token.fn()->C_CloseAllSessions(token.slot()), static_cast<CK_RV>(CKR_OK));
  ExpectSignsVerifiably(*key);
}

TEST(TokenKeyTest, WrongPinIsRefusedWithItsCkrName) {
  auto bare = testing::MakeBareToken();
  ASSERT_TRUE(bare);
  std::shared_ptr<Module> module = bare->module;
  bare->token.reset();  // its sessions close, and with the last one the login ends
  auto uri = ParsePkcs11Uri("pkcs11:token=bare");
  auto token = Token::Open(module, *uri, Secret("not-the-pin"));
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().reason, "TOKEN_LOGIN_FAILED");
  EXPECT_NE(token.error().message.find("CKR_PIN_INCORRECT"), std::string::npos) << token.error().message;
  auto missing = ParsePkcs11Uri("pkcs11:token=no-such-token");
  auto none = Token::Open(module, *missing, Secret(bare->user_pin));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().reason, "TOKEN_NOT_FOUND");
}

TEST(TokenKeyTest, SignsConcurrentlyFromManyThreads) {
  TokenWithKey t;
  ASSERT_TRUE(t.key);
  std::shared_ptr<TokenKey> key = t.key;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Bytes digest = Sha256(std::to_string(i));
        auto sig = key->SignRaw(CKM_ECDSA, digest.data(), digest.size());
        if (sig.ok() && sig->size() == 64) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 300);
  EXPECT_LE(key->token().open_sessions(), 4u) << "the pool stays within its size";
}

// libp11 (and so the OpenSSL pkcs11 engine) pairs the private key with its
// public key by CKA_ID; for EC keys it cannot work without it.
TEST(TokenKeyTest, Libp11FindsTheKeyPairByCkaId) {
  TokenWithKey t;
  ASSERT_TRUE(t.key);
  PKCS11_CTX* ctx = PKCS11_CTX_new();
  ASSERT_EQ(PKCS11_CTX_load(ctx, SOFTHSM_MODULE), 0);
  PKCS11_SLOT* slots = nullptr;
  unsigned int nslots = 0;
  ASSERT_EQ(PKCS11_enumerate_slots(ctx, &slots, &nslots), 0);
  PKCS11_SLOT* slot = PKCS11_find_token(ctx, slots, nslots);
  ASSERT_NE(slot, nullptr);
  ASSERT_EQ(std::string(slot->token->label), "bare");
  ASSERT_EQ(PKCS11_login(slot, 0, t.bare->user_pin.c_str()), 0);
  PKCS11_KEY* keys = nullptr;
  unsigned int nkeys = 0;
  ASSERT_EQ(PKCS11_enumerate_keys(slot->token, &keys, &nkeys), 0);
  PKCS11_KEY* ca_key = nullptr;
  for (unsigned int i = 0; i < nkeys; ++i)
    if (std::string(keys[i].label) == "ca-key") ca_key = &keys[i];
  ASSERT_NE(ca_key, nullptr) << "libp11 does not see the CA key";
  EXPECT_EQ(ca_key->id_len, 16u);
  EVP_PKEY* pub = PKCS11_get_public_key(ca_key);
  ASSERT_NE(pub, nullptr) << "libp11 could not pair the private key with its public key";
  EXPECT_EQ(EVP_PKEY_eq(pub, t.key->evp()), 1);
  EVP_PKEY_free(pub);
  PKCS11_release_all_slots(ctx, slots, nslots);
  // No PKCS11_CTX_unload: it would C_Finalize the module under the station's own use.
  PKCS11_CTX_free(ctx);
}

}  // namespace
}  // namespace station::hsm
