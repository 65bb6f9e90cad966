// The simulated network HSM (bench/netsim): a PKCS#11 module that forwards to
// SoftHSM, adds its latency to each signature, and caps the sessions open at once.
#include <gtest/gtest.h>
#include <openssl/ec.h>

#include <chrono>

#include "hsm/module.h"
#include "station/pki/certificate_der.h"
#include "station/pki/pem.h"
#include "station/runtime/station.h"
#include "tests/support/dev_station.h"

namespace station {
namespace {

TEST(NetsimPkcs11Test, SignsThroughSoftHsmWithItsLatencyAndCapsSessions) {
  auto dev = testing::MakeDevStation();
  ASSERT_TRUE(dev);
  config::TokenConfig token = dev->config.token;
  token.module = NETSIM_MODULE;
  token.env["STATION_NETSIM_MODULE"] = dev->config.token.module;
  token.env["STATION_NETSIM_SIGN_LATENCY_US"] = "20000";
  token.env["STATION_NETSIM_MAX_SESSIONS"] = "2";
  auto key = runtime::OpenTokenKey(token, dev->config.ca.key_uri, 2);
  ASSERT_TRUE(key.ok()) << key.error().ToString();

  // A signature of the CA key, made in SoftHSM behind the module, after the latency.
  const Bytes digest = Sha256(std::string("netsim"));
  const auto start = std::chrono::steady_clock::now();
  auto raw = (*key)->SignRaw(CKM_ECDSA, digest.data(), digest.size());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(raw.ok()) << raw.error().ToString();
  EXPECT_GE(took, std::chrono::milliseconds(20));
  auto sig = pki::EcdsaSignatureDer(*raw);
  ASSERT_TRUE(sig.ok());
  auto certs = pki::ReadCertsPem(dev->config.ca.certificate);
  ASSERT_TRUE(certs.ok());
  OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> verify(EVP_PKEY_CTX_new(X509_get0_pubkey(certs->front().get()), nullptr));
  ASSERT_TRUE(verify && EVP_PKEY_verify_init(verify.get()) == 1);
  EXPECT_EQ(EVP_PKEY_verify(verify.get(), sig->data(), sig->size(), digest.data(), digest.size()), 1);

  // Sessions beyond the cap are refused the way an appliance refuses them.
  auto module = hsm::Module::Load(NETSIM_MODULE);
  ASSERT_TRUE(module.ok());
  CK_FUNCTION_LIST* fn = (*module)->fn();
  CK_ULONG slots = 8;
  std::vector<CK_SLOT_ID> slot(slots);
  ASSERT_EQ(fn->C_GetSlotList(CK_TRUE, slot.data(), &slots), CKR_OK);
  ASSERT_GE(slots, 1u);
  const size_t pooled = (*key)->token().open_sessions();
  std::vector<CK_SESSION_HANDLE> mine;
  CK_RV rv = CKR_OK;
  while (mine.size() < 4) {
    CK_SESSION_HANDLE s = 0;
    rv = fn->C_OpenSession(slot[0], CKF_SERIAL_SESSION, nullptr, nullptr, &s);
    if (rv != CKR_OK) break;
    mine.push_back(s);
  }
  EXPECT_EQ(rv, static_cast<CK_RV>(CKR_SESSION_COUNT));
  EXPECT_EQ(pooled + mine.size(), 2u);
  for (CK_SESSION_HANDLE s : mine) EXPECT_EQ(fn->C_CloseSession(s), CKR_OK);
  EXPECT_TRUE((*key)->SignRaw(CKM_ECDSA, digest.data(), digest.size()).ok());  // and it goes on working
}

}  // namespace
}  // namespace station
