// Token faults, injected by the simulated HSM (bench/netsim/faults.h) in front
// of SoftHSM while a real station issues: each fault is answered UNAVAILABLE
// (INTERNAL for a bad signature), the station heals by itself when the fault
// clears, never offers a refused PIN twice, and never releases a certificate
// whose signature does not verify.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "station/pki/pem.h"
#include "tests/support/station_fixture.h"

namespace station::testing {
namespace {

const issuance::Caller kLine{"line-1", issuance::Role::kLine};

class TokenFaultTest : public StationTest {
 protected:
  // A dev station whose token is reached through the fault-injecting module.
  void OpenFaulty(const std::string& ca_key = "ec-p256", int64_t sign_timeout_s = 10) {
    Open(
        [&](config::StationConfig& c) {
          fault_file_ = dev_->dir.path() + "/fault";
          count_file_ = dev_->dir.path() + "/counts";
          c.token.env["STATION_NETSIM_MODULE"] = c.token.module;
          c.token.env["STATION_NETSIM_FAULT_FILE"] = fault_file_;
          c.token.env["STATION_NETSIM_COUNT_FILE"] = count_file_;
          c.token.module = NETSIM_MODULE;
          c.issuance.pipeline.sign_timeout = std::chrono::seconds(sign_timeout_s);
          c.issuance.pipeline.workers = 2;
          c.issuance.pipeline.signers = 2;
        },
        ca_key);
  }

  void Inject(const std::string& fault) {
    std::ofstream(fault_file_ + ".tmp") << fault << "\n";
    ASSERT_EQ(std::rename((fault_file_ + ".tmp").c_str(), fault_file_.c_str()), 0);
  }

  // C_Login calls the module has seen.
  long Logins() {
    std::ifstream in(count_file_);
    std::string text;
    std::getline(in, text);
    return text.rfind("logins=", 0) == 0 ? std::stol(text.substr(7)) : 0;
  }

  Result<issuance::Issued> Request(const std::string& id) { return Submit(kLine, RequestFor(id)); }

  // Issues and checks the certificate against the CA certificate.
  void ExpectIssues(const std::string& id) {
    auto issued = Request(id);
    ASSERT_TRUE(issued.ok()) << id << ": " << issued.error().ToString();
    auto cert = pki::ParseCertDer(issued->certificate_der);
    ASSERT_TRUE(cert.ok());
    EXPECT_EQ(X509_verify(cert->get(), X509_get0_pubkey(station_->ca()->cert())), 1) << id;
  }

  void ExpectRefused(const std::string& id, Code code, const std::string& reason) {
    auto issued = Request(id);
    ASSERT_FALSE(issued.ok()) << id << " was issued under the fault";
    EXPECT_EQ(issued.error().code, code) << issued.error().ToString();
    EXPECT_EQ(issued.error().reason, reason) << issued.error().ToString();
  }

  bool Recorded(const std::string& id) {
    auto found = station_->store().FindByRequest(kLine.identity, id);
    EXPECT_TRUE(found.ok());
    return found.ok() && found->has_value();
  }

  std::string fault_file_, count_file_;
};

TEST_F(TokenFaultTest, EachTokenErrorIsUnavailableAndHealsWhenItClears) {
  OpenFaulty();
  ASSERT_FALSE(HasFatalFailure());
  ExpectIssues("before");
  for (const char* fault : {"device_error", "token_not_present", "session_invalid", "user_not_logged_in"}) {
    SCOPED_TRACE(fault);
    Inject(fault);
    ExpectRefused(std::string(fault) + "-1", Code::kUnavailable, "TOKEN_UNAVAILABLE");
    ExpectRefused(std::string(fault) + "-2", Code::kUnavailable, "TOKEN_UNAVAILABLE");
    EXPECT_FALSE(Recorded(std::string(fault) + "-1"));
    Inject("none");
    ExpectIssues(std::string(fault) + "-1");  // the same request, retried: issued now
    ExpectIssues(std::string(fault) + "-after");
  }
}

TEST_F(TokenFaultTest, AnHsmRestartOrLostLoginIsSurvivedWithANewLogin) {
  OpenFaulty();
  ASSERT_FALSE(HasFatalFailure());
  ExpectIssues("before");
  const long logins = Logins();
  Inject("restart");  // every session gone, login lost
  ExpectIssues("after-restart");
  EXPECT_EQ(Logins(), logins + 1);
  Inject("logout");
  ExpectIssues("after-logout");
  EXPECT_EQ(Logins(), logins + 2);
  Inject("restart 2");
  for (int i = 0; i < 8; ++i) ExpectIssues("burst-" + std::to_string(i));
}

TEST_F(TokenFaultTest, ARefusedPinIsNeverOfferedAgain) {
  OpenFaulty();
  ASSERT_FALSE(HasFatalFailure());
  ExpectIssues("before");
  const long logins = Logins();
  Inject("pin_incorrect");  // the token forgets the login and now refuses the PIN
  for (int i = 0; i < 5; ++i) ExpectRefused("refused-" + std::to_string(i), Code::kUnavailable, "TOKEN_LOGIN_FAILED");
  EXPECT_EQ(Logins(), logins + 1) << "the refused PIN was offered again";
  Inject("none");
  ExpectRefused("still-refused", Code::kUnavailable, "TOKEN_LOGIN_FAILED");
  EXPECT_EQ(Logins(), logins + 1);
  Reopen();  // an operator fixed it and restarted
  ExpectIssues("after-restart");
}

TEST_F(TokenFaultTest, AHungTokenTimesOutEveryRequestAndRecovers) {
  OpenFaulty("ec-p256", 1);
  ASSERT_FALSE(HasFatalFailure());
  ExpectIssues("before");
  Inject("hang");
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::future<Result<issuance::Issued>>> pending;
  for (int i = 0; i < 12; ++i)
    pending.push_back(std::async(std::launch::async, [this, i] { return Request("hung-" + std::to_string(i)); }));
  for (auto& p : pending) {
    auto r = p.get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kUnavailable) << r.error().ToString();
    EXPECT_TRUE(r.error().reason == "TOKEN_TIMEOUT" || r.error().reason == "TOKEN_STALLED") << r.error().ToString();
  }
  // Every request answered within a few timeouts, though no signature came back.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  ExpectRefused("while-stalled", Code::kUnavailable, "TOKEN_STALLED");
  Inject("none");
  // The hung calls return; their certificates were never released nor recorded.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  for (int i = 0; i < 12; ++i) EXPECT_FALSE(Recorded("hung-" + std::to_string(i))) << i;
  ExpectIssues("hung-0");
  ExpectIssues("after");
}

class CorruptSignatureTest : public TokenFaultTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(CorruptSignatureTest, IsNeverReleasedAndHaltsIssuance) {
  OpenFaulty(GetParam());
  ASSERT_FALSE(HasFatalFailure());
  ExpectIssues("before");
  Inject("corrupt_signature");
  ExpectRefused("corrupt", Code::kInternal, "SIGNATURE_INVALID");
  Inject("none");
  ExpectRefused("next", Code::kInternal, "ISSUANCE_HALTED");  // until an operator restarts it
  EXPECT_FALSE(Recorded("corrupt"));
  EXPECT_FALSE(Recorded("next"));
  auto retry = Request("before");  // answered from the log: signed and checked before the fault
  ASSERT_TRUE(retry.ok()) << retry.error().ToString();
  EXPECT_TRUE(retry->replayed);
  Reopen();
  ExpectIssues("corrupt");
}

INSTANTIATE_TEST_SUITE_P(CaKeys, CorruptSignatureTest, ::testing::Values("ec-p256", "rsa-2048"));

}  // namespace
}  // namespace station::testing
