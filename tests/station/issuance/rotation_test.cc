// Rotating the issuing CA while the pipeline is busy: no request fails,
// every certificate is signed by the key its AuthorityKeyIdentifier names,
// and nothing is signed by a retired key.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "station/issuance/issuer.h"
#include "station/issuance/pipeline.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/runtime/station.h"
#include "tests/support/csr_factory.h"
#include "tests/support/station_fixture.h"

namespace station::issuance {
namespace {

const Caller kLine{"line-1", Role::kLine};

Result<Issued> IssueAndWait(Pipeline& pipeline, const std::string& id, const Bytes& csr) {
  IssueRequest request;
  request.request_id = id;
  request.csr_der = csr;
  std::promise<Result<Issued>> done;
  pipeline.Submit(kLine, std::move(request), [&](Result<Issued> r) { done.set_value(std::move(r)); });
  return done.get_future().get();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class RotationTest : public testing::StationTest {
 protected:
  void SetUp() override {
    Open();
    if (HasFatalFailure()) return;
    old_ = station_->ca();
    // The successor: another CA key of the same token (the dev station's
    // Matter PAA, a self-signed P-256 CA), loaded as an officer would stage it.
    auto key = runtime::OpenTokenKey(dev_->config.token, "pkcs11:token=station;object=matter-paa;type=private", 4);
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    auto next = CertificateAuthority::Load(*key, dev_->setup.matter_paa_cert);
    ASSERT_TRUE(next.ok()) << next.error().ToString();
    next_ = *next;
  }
  Issuer& issuer() { return station_->issuer(); }

  // Which of the two CAs signed the certificate; fails the test unless the
  // signature, the issuer name, the AuthorityKeyIdentifier and the chain
  // sent with it all name that one CA.
  const CertificateAuthority* SignerOf(const Issued& issued) {
    auto cert = pki::ParseCertDer(issued.certificate_der);
    EXPECT_TRUE(cert.ok());
    if (!cert.ok()) return nullptr;
    const CertificateAuthority* signer = nullptr;
    for (const CertificateAuthority* ca : {old_.get(), next_.get()})
      if (X509_verify(cert->get(), ca->key()) == 1) {
        EXPECT_EQ(signer, nullptr) << "verifies under both CAs";
        signer = ca;
      }
    EXPECT_NE(signer, nullptr) << "verifies under neither CA";
    if (signer == nullptr) return nullptr;
    const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert->get());
    EXPECT_TRUE(aki != nullptr && Hex(Bytes(ASN1_STRING_get0_data(aki), ASN1_STRING_get0_data(aki) +
                                                                             ASN1_STRING_length(aki))) ==
                                      signer->key_id_hex());
    EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert->get()), X509_get_subject_name(signer->cert())), 0);
    EXPECT_FALSE(issued.chain_der.empty());
    if (!issued.chain_der.empty()) {
      EXPECT_EQ(issued.chain_der.front(), signer->chain_der().front());
    }
    return signer;
  }

  std::shared_ptr<const CertificateAuthority> old_, next_;
};

TEST_F(RotationTest, RotationUnderLoadLosesNoRequestAndMixesNoKeys) {
  constexpr int kThreads = 4, kPerThread = 150;
  std::vector<std::vector<testing::TestCsr>> csrs(kThreads);
  for (auto& list : csrs)
    for (int i = 0; i < kPerThread; ++i) list.push_back(testing::MakeCsr("ec-p256", "dev"));
  struct Outcome {
    Result<Issued> result = Error{};
    bool after_retire = false;
  };
  std::vector<std::vector<Outcome>> outcomes(kThreads, std::vector<Outcome>(kPerThread));
  std::atomic<int> completed{0};
  std::atomic<bool> retired{false};
  std::vector<std::thread> lines;
  for (int t = 0; t < kThreads; ++t)
    lines.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        outcomes[t][i].after_retire = retired.load();
        outcomes[t][i].result =
            IssueAndWait(station_->pipeline(), "r-" + std::to_string(t) + "-" + std::to_string(i), csrs[t][i].der);
        ++completed;
      }
    });
  auto wait_for = [&](int n) {
    while (completed.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  wait_for(150);
  ASSERT_TRUE(issuer().Stage(next_).ok());
  wait_for(200);
  ASSERT_TRUE(issuer().Activate(next_->key_id_hex()).ok());
  EXPECT_EQ(station_->ca(), next_);  // GetCaChain follows at once
  wait_for(300);
  Status st = issuer().Retire(old_->key_id_hex());
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  retired = true;
  for (auto& line : lines) line.join();

  int by_old = 0, by_next = 0, after_retire = 0;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i) {
      const Outcome& o = outcomes[t][i];
      ASSERT_TRUE(o.result.ok()) << t << "/" << i << ": " << o.result.error().ToString();
      const CertificateAuthority* signer = SignerOf(*o.result);
      by_old += signer == old_.get();
      by_next += signer == next_.get();
      if (o.after_retire) {
        ++after_retire;
        EXPECT_EQ(signer, next_.get()) << "signed by the retired key after Retire returned";
      }
    }
  EXPECT_EQ(by_old + by_next, kThreads * kPerThread);
  EXPECT_GE(by_old, 150);
  EXPECT_GT(by_next, 0);
  EXPECT_GT(after_retire, 0);
  auto states = issuer().List();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].state, CaState::kRetired);
  EXPECT_EQ(states[1].state, CaState::kActive);

  // A retry of a certificate the retired CA signed gets it back, with its own chain.
  auto again = IssueAndWait(station_->pipeline(), "r-0-0", csrs[0][0].der);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->certificate_der, outcomes[0][0].result->certificate_der);
  EXPECT_EQ(SignerOf(*again), old_.get());
}

TEST_F(RotationTest, RetiringTheOnlyCaStopsIssuanceUntilASuccessorIsActive) {
  auto csr = testing::MakeCsr("ec-p256", "dev");
  ASSERT_TRUE(issuer().Retire(old_->key_id_hex()).ok());
  auto refused = IssueAndWait(station_->pipeline(), "r-1", csr.der);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(refused.error().reason, "CA_RETIRED");
  EXPECT_EQ(station_->ca(), nullptr);

  auto again = issuer().Activate(old_->key_id_hex());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason, "CA_NOT_STAGED");  // a retired CA never returns
  auto restage = issuer().Stage(old_);
  ASSERT_FALSE(restage.ok());
  EXPECT_EQ(restage.error().reason, "CA_EXISTS");
  auto unknown = issuer().Activate("00ff");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().reason, "CA_NOT_FOUND");

  ASSERT_TRUE(issuer().Stage(next_).ok());
  ASSERT_TRUE(issuer().Activate(next_->key_id_hex()).ok());
  auto issued = IssueAndWait(station_->pipeline(), "r-2", csr.der);
  ASSERT_TRUE(issued.ok()) << issued.error().ToString();
  EXPECT_EQ(SignerOf(*issued), next_.get());
}

TEST_F(RotationTest, ActivatesAtTheSetTimeAndRetireWaitsForSignaturesInFlight) {
  ASSERT_TRUE(issuer().Stage(next_).ok());
  ASSERT_TRUE(issuer().Activate(next_->key_id_hex(), NowMs() + 300).ok());
  EXPECT_EQ(issuer().Active(), old_);
  EXPECT_EQ(issuer().List()[1].state, CaState::kStaged);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(issuer().Active(), next_);
  EXPECT_EQ(issuer().List()[0].state, CaState::kPrevious);

  // A signature in flight with the old CA (a lease taken before the switch
  // would look the same) holds its retirement until it is done.
  auto lease = issuer().Acquire();
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(&lease->ca(), next_.get());
  auto pending = issuer().Retire(next_->key_id_hex(), 50);
  ASSERT_FALSE(pending.ok());
  EXPECT_EQ(pending.error().reason, "CA_RETIRE_PENDING");
  std::atomic<bool> returned{false};
  std::thread retire([&] {
    EXPECT_TRUE(issuer().Retire(next_->key_id_hex(), 5000).ok());
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(returned.load());
  { auto done = std::move(*lease); }
  retire.join();
  EXPECT_TRUE(returned.load());
  auto none = issuer().Acquire();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().reason, "CA_RETIRED");
}

}  // namespace
}  // namespace station::issuance
