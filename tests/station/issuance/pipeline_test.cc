// The issuance pipeline without gRPC, against a real token and audit log.
#include "station/issuance/pipeline.h"

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <set>

#include <unistd.h>

#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/runtime/station.h"
#include "tests/support/csr_factory.h"
#include "tests/support/dev_station.h"

namespace station::issuance {
namespace {

const Caller kLine{"line-1", Role::kLine};

Result<Issued> IssueAndWait(Pipeline& pipeline, const Caller& caller, IssueRequest request) {
  std::promise<Result<Issued>> done;
  pipeline.Submit(caller, std::move(request), [&](Result<Issued> r) { done.set_value(std::move(r)); });
  return done.get_future().get();
}

IssueRequest Request(const std::string& id, const Bytes& csr, const std::string& device_id = "") {
  IssueRequest r;
  r.request_id = id;
  r.csr_der = csr;
  r.device_id = device_id;
  return r;
}

X509Ptr Parse(const Bytes& der) {
  auto cert = pki::ParseCertDer(der);
  return cert.ok() ? std::move(*cert) : nullptr;
}

// X509_verify_cert against the issuing CA alone, as a device's peer would.
bool ChainsTo(X509* cert, X509* ca) {
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  return X509_verify_cert(ctx.get()) == 1;
}

class PipelineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dev_ = testing::MakeDevStation(GetParam());
    ASSERT_TRUE(dev_);
    auto station = runtime::Station::Open(dev_->config);
    ASSERT_TRUE(station.ok()) << station.error().ToString();
    station_ = std::move(*station);
  }
  Pipeline& pipeline() { return station_->pipeline(); }
  X509* ca() { return station_->ca()->cert(); }

  std::unique_ptr<testing::DevStation> dev_;
  std::unique_ptr<runtime::Station> station_;
};

TEST_P(PipelineTest, IssuesTheDefaultProfileFieldByField) {
  for (const char* device_key : {"ec-p256", "ec-p384", "rsa-2048"}) {
    auto csr = testing::MakeCsr(device_key, "from-csr");
    auto issued = IssueAndWait(pipeline(), kLine, Request(std::string("r-") + device_key, csr.der, "thing-42"));
    ASSERT_TRUE(issued.ok()) << device_key << ": " << issued.error().ToString();
    auto cert = Parse(issued->certificate_der);
    ASSERT_TRUE(cert);
    EXPECT_TRUE(ChainsTo(cert.get(), ca())) << device_key;
    EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
    EXPECT_EQ(pki::NameText(X509_get_subject_name(cert.get())), "CN=thing-42");
    EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca())), 0);
    EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), csr.key.get()), 1);
    // Validity: backdated 300 s, 3650 days long (clamped to the CA's end).
    int days = 0, secs = 0;
    ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())), 1);
    EXPECT_LE(days, 3650);
    EXPECT_GE(days, 3640);
    EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
    // Extensions.
    int crit = -1;
    auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert.get(), NID_basic_constraints, &crit, nullptr));
    ASSERT_NE(bc, nullptr);
    EXPECT_EQ(crit, 1);
    EXPECT_FALSE(bc->ca);
    BASIC_CONSTRAINTS_free(bc);
    auto* ku = static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(cert.get(), NID_key_usage, &crit, nullptr));
    ASSERT_NE(ku, nullptr);
    EXPECT_EQ(crit, 1);
    ASN1_BIT_STRING_free(ku);
    bool rsa = std::string(device_key).rfind("rsa", 0) == 0;
    EXPECT_EQ(X509_get_key_usage(cert.get()), rsa ? (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT) : KU_DIGITAL_SIGNATURE);
    EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.get());
    ASSERT_NE(ski, nullptr);
    Bytes expected_ski = pki::KeyIdentifier(X509_get_X509_PUBKEY(cert.get()));
    EXPECT_EQ(Bytes(ASN1_STRING_get0_data(ski), ASN1_STRING_get0_data(ski) + ASN1_STRING_length(ski)), expected_ski);
    const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert.get());
    ASSERT_NE(aki, nullptr);
    EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca())), 0);
    // What the answer says about it.
    EXPECT_EQ(issued->certificate_id, Hex(Sha256(issued->certificate_der)));
    EXPECT_EQ(issued->serial_hex, pki::SerialHex(X509_get0_serialNumber(cert.get())));
    ASSERT_EQ(issued->chain_der.size(), 1u);
    EXPECT_EQ(issued->chain_der[0], CertDer(ca()));
    EXPECT_GT(issued->audit_seq, 0u);
  }
}

TEST_P(PipelineTest, SubjectComesFromTheCsrWithoutDeviceId) {
  auto csr = testing::MakeCsr("ec-p256", "csr-subject");
  auto issued = IssueAndWait(pipeline(), kLine, Request("r1", csr.der));
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(pki::NameText(X509_get_subject_name(Parse(issued->certificate_der).get())), "CN=csr-subject");
}

INSTANTIATE_TEST_SUITE_P(CaKeys, PipelineTest, ::testing::Values("ec-p256", "ec-p384", "rsa-2048"));

class PipelineBehaviourTest : public PipelineTest {};
INSTANTIATE_TEST_SUITE_P(Ec, PipelineBehaviourTest, ::testing::Values("ec-p256"));

TEST_P(PipelineBehaviourTest, SerialsAreLargePositiveAndUnique) {
  std::set<std::string> serials;
  std::vector<std::future<Result<Issued>>> pending;
  std::vector<std::promise<Result<Issued>>> promises(300);
  for (size_t i = 0; i < promises.size(); ++i) {
    pending.push_back(promises[i].get_future());
    auto csr = testing::MakeCsr("ec-p256");
    pipeline().Submit(kLine, Request("s" + std::to_string(i), csr.der),
                      [&promises, i](Result<Issued> r) { promises[i].set_value(std::move(r)); });
  }
  for (auto& f : pending) {
    auto issued = f.get();
    ASSERT_TRUE(issued.ok()) << issued.error().ToString();
    auto cert = Parse(issued->certificate_der);
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
    EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER) << "positive";
    EXPECT_LE(ASN1_STRING_length(serial), 20);
    BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
    EXPECT_GE(BN_num_bits(bn.get()), 64);
    EXPECT_TRUE(serials.insert(issued->serial_hex).second) << "serial reused";
  }
  EXPECT_EQ(serials.size(), 300u);
}

TEST_P(PipelineBehaviourTest, RetryReturnsTheSameCertificate) {
  auto csr = testing::MakeCsr("ec-p256");
  auto first = IssueAndWait(pipeline(), kLine, Request("retry-1", csr.der));
  ASSERT_TRUE(first.ok());
  auto again = IssueAndWait(pipeline(), kLine, Request("retry-1", csr.der));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->certificate_der, first->certificate_der);
  EXPECT_EQ(again->audit_seq, first->audit_seq);
  auto other = testing::MakeCsr("ec-p256");
  auto reused = IssueAndWait(pipeline(), kLine, Request("retry-1", other.der));
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(reused.error().reason, "REQUEST_ID_REUSED");
  EXPECT_EQ(station_->audit_last_seq(), 1u) << "no second issuance";
}

TEST_P(PipelineBehaviourTest, ConcurrentRetriesIssueOnce) {
  auto csr = testing::MakeCsr("ec-p256");
  std::vector<std::promise<Result<Issued>>> promises(8);
  for (auto& p : promises)
    pipeline().Submit(kLine, Request("same", csr.der), [&p](Result<Issued> r) { p.set_value(std::move(r)); });
  std::set<Bytes> certs;
  for (auto& p : promises) {
    auto r = p.get_future().get();
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    certs.insert(r->certificate_der);
  }
  EXPECT_EQ(certs.size(), 1u);
  EXPECT_EQ(station_->audit_last_seq(), 1u);
}

TEST_P(PipelineBehaviourTest, RefusesBadRequestsWithReasons) {
  auto csr = testing::MakeCsr("ec-p256");
  struct Case {
    Caller caller;
    IssueRequest request;
    Code code;
    std::string reason;
  };
  IssueRequest unknown_profile = Request("p1", csr.der);
  unknown_profile.profile = "no-such-profile";
  auto line_key = pki::GenerateSoftwareKey("ec-p256");
  auto line_ou = pki::MakeCaCsr("CN=line-2,OU=line", line_key->get());  // a device asking to be a line
  IssueRequest many_attrs = Request("a1", csr.der);
  for (int i = 0; i < 40; ++i) many_attrs.attributes["k" + std::to_string(i)] = "v";
  std::vector<Case> cases = {
      {{"officer-1", Role::kOfficer}, Request("o1", csr.der), Code::kPermissionDenied, "ROLE_NOT_ALLOWED"},
      {kLine, unknown_profile, Code::kPermissionDenied, "UNKNOWN_PROFILE"},
      {kLine, Request("", csr.der), Code::kInvalidArgument, "REQUEST_ID_INVALID"},
      {kLine, Request(std::string(200, 'x'), csr.der), Code::kInvalidArgument, "REQUEST_ID_INVALID"},
      {kLine, Request("d1", csr.der, std::string(65, 'd')), Code::kInvalidArgument, "DEVICE_ID_INVALID"},
      {kLine, many_attrs, Code::kInvalidArgument, "ATTRIBUTES_INVALID"},
      {kLine, Request("g1", Bytes{1, 2, 3}), Code::kInvalidArgument, "CSR_MALFORMED"},
      {kLine, Request("t1", testing::TamperSignature(csr.der)), Code::kInvalidArgument, "CSR_BAD_SIGNATURE"},
      {kLine, Request("w1", testing::MakeCsr("rsa-1024").der), Code::kInvalidArgument, "RSA_TOO_SHORT"},
      {kLine, Request("ou1", CsrDer(line_ou->get())), Code::kInvalidArgument, "SUBJECT_INVALID"},
  };
  for (auto& c : cases) {
    auto r = IssueAndWait(pipeline(), c.caller, c.request);
    ASSERT_FALSE(r.ok()) << c.reason;
    EXPECT_EQ(r.error().code, c.code) << c.reason;
    EXPECT_EQ(r.error().reason, c.reason);
  }
  EXPECT_EQ(station_->audit_last_seq(), 0u);
  EXPECT_EQ(pipeline().stats().failed, cases.size());
}

// Prepare is the whole decision without the engine: no thread, no token call,
// nothing recorded; what it makes is a certificate to sign and its record.
TEST_P(PipelineBehaviourTest, PrepareMakesTheCertificateToSignAndItsRecordWithoutSigning) {
  auto csr = testing::MakeCsr("ec-p256");
  auto prepared = pipeline().Prepare(kLine, Request("prep-1", csr.der, "thing-7"));
  ASSERT_TRUE(prepared.ok()) << prepared.error().ToString();
  EXPECT_FALSE(prepared->replay);
  ASSERT_TRUE(prepared->lease);
  EXPECT_FALSE(prepared->tbs_der.empty());
  EXPECT_EQ(prepared->draft.request_id, "prep-1");
  EXPECT_EQ(prepared->draft.caller, "line-1");
  EXPECT_EQ(prepared->draft.subject, "CN=thing-7");
  EXPECT_EQ(prepared->draft.issuer_key_id, station_->ca()->key_id_hex());
  EXPECT_EQ(prepared->draft.spki_sha256, prepared->reservation.spki_sha256);
  EXPECT_EQ(prepared->reservation.device_id, "thing-7");
  EXPECT_TRUE(prepared->draft.certificate_der.empty());
  EXPECT_EQ(station_->audit_last_seq(), 0u) << "nothing recorded";
  EXPECT_EQ(pipeline().stats().issued, 0u);
}

// The retry lookup comes before the CSR is parsed: a recorded request is
// answered from the log, and another CSR under its id is REQUEST_ID_REUSED
// even when it is not a CSR at all.
TEST_P(PipelineBehaviourTest, PrepareAnswersARetryBeforeParsing) {
  auto csr = testing::MakeCsr("ec-p256");
  auto first = IssueAndWait(pipeline(), kLine, Request("prep-r", csr.der));
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  auto again = pipeline().Prepare(kLine, Request("prep-r", csr.der));
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  ASSERT_TRUE(again->replay);
  EXPECT_EQ(again->replay->certificate_der, first->certificate_der);
  EXPECT_TRUE(again->tbs_der.empty());
  auto garbage = pipeline().Prepare(kLine, Request("prep-r", Bytes{1, 2, 3}));
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().reason, "REQUEST_ID_REUSED");
  auto fresh_garbage = pipeline().Prepare(kLine, Request("prep-g", Bytes{1, 2, 3}));
  ASSERT_FALSE(fresh_garbage.ok());
  EXPECT_EQ(fresh_garbage.error().reason, "CSR_MALFORMED");
}

// Requests prepared together (as a worker takes them) ask the store once, and
// each gets what Prepare alone would give it.
TEST_P(PipelineBehaviourTest, RequestsPreparedTogetherGetEachTheirOwnAnswer) {
  auto a = testing::MakeCsr("ec-p256"), b = testing::MakeCsr("ec-p256");
  auto first = IssueAndWait(pipeline(), kLine, Request("all-a", a.der, "dev-a"));
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  const IssueRequest garbage = Request("all-g", Bytes{1, 2, 3}), fresh = Request("all-b", b.der, "dev-b"),
                     retry = Request("all-a", a.der, "dev-a"), same_key = Request("all-c", a.der, "dev-c");
  auto prepared = pipeline().PrepareAll({{kLine, garbage}, {kLine, fresh}, {kLine, retry}, {kLine, same_key}});
  ASSERT_EQ(prepared.size(), 4u);
  ASSERT_FALSE(prepared[0].ok());
  EXPECT_EQ(prepared[0].error().reason, "CSR_MALFORMED");
  ASSERT_TRUE(prepared[1].ok()) << prepared[1].error().ToString();
  EXPECT_FALSE(prepared[1]->replay);
  EXPECT_EQ(prepared[1]->draft.device_id, "dev-b");
  ASSERT_TRUE(prepared[2].ok()) << prepared[2].error().ToString();
  ASSERT_TRUE(prepared[2]->replay);
  EXPECT_EQ(prepared[2]->replay->certificate_der, first->certificate_der);
  ASSERT_FALSE(prepared[3].ok());
  EXPECT_EQ(prepared[3].error().reason, "DUPLICATE_KEY");
}

// Submits n requests at once (their CSRs made first), and gives the answers.
std::vector<Result<Issued>> SubmitBurst(Pipeline& pipeline, const std::string& prefix, size_t n) {
  std::vector<Bytes> csrs;
  for (size_t i = 0; i < n; ++i) csrs.push_back(testing::MakeCsr("ec-p256").der);
  std::vector<std::promise<Result<Issued>>> promises(n);
  for (size_t i = 0; i < n; ++i)
    pipeline.Submit(kLine, Request(prefix + std::to_string(i), csrs[i]),
                    [&promises, i](Result<Issued> r) { promises[i].set_value(std::move(r)); });
  std::vector<Result<Issued>> answers;
  for (auto& p : promises) answers.push_back(p.get_future().get());
  return answers;
}

// A development station with one worker, so that a burst queues behind it.
struct OneWorkerStation {
  explicit OneWorkerStation(const std::function<void(config::StationConfig&)>& adjust)
      : dev(testing::MakeDevStation()) {
    if (!dev) return;
    dev->config.issuance.pipeline.workers = 1;
    adjust(dev->config);
    auto opened = runtime::Station::Open(dev->config);
    EXPECT_TRUE(opened.ok()) << opened.error().ToString();
    if (opened.ok()) station = std::move(*opened);
  }
  std::unique_ptr<testing::DevStation> dev;  // its files outlive the station
  std::unique_ptr<runtime::Station> station;
};

TEST(PipelineQueueTest, RefusesWhenTheQueueIsFull) {
  OneWorkerStation one([](config::StationConfig& c) { c.issuance.pipeline.queue_depth = 2; });
  ASSERT_TRUE(one.station);
  runtime::Station* station = one.station.get();
  size_t refused = 0, issued = 0;
  for (auto& r : SubmitBurst(station->pipeline(), "q", 64)) {
    if (r.ok()) {
      ++issued;
    } else {
      EXPECT_EQ(r.error().code, Code::kResourceExhausted);
      EXPECT_EQ(r.error().reason, "QUEUE_FULL");
      ++refused;
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(issued, 0u);
  EXPECT_EQ(refused + issued, 64u);
}

// A burst queues requests behind the workers: the audit writer then gathers
// records into a few commits instead of syncing the disk for every few.
TEST(PipelineQueueTest, ABurstIsRecordedInFewCommits) {
  OneWorkerStation one([](config::StationConfig& c) { c.audit.writer.commit_delay = std::chrono::milliseconds(100); });
  ASSERT_TRUE(one.station);
  runtime::Station* station = one.station.get();
  for (auto& r : SubmitBurst(station->pipeline(), "b", 64)) ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(station->audit_last_seq(), 64u);
  // Without gathering: ~40 commits. The last records, once the queue has
  // drained, may commit at once: a few commits, or one.
  EXPECT_LE(station->audit_commits(), 8u);
}

// A station serves exactly the profiles written in its profiles_dir: none is
// added for a request that names no profile (that once issued ten-year
// certificates under [ca] past every lot, code and one-per-device rule).
TEST(PipelineProfilesTest, ARequestWithoutAProfileNeedsADefaultProfileSomebodyWrote) {
  auto dev = testing::MakeDevStation();
  ASSERT_TRUE(dev);
  ASSERT_EQ(::unlink((dev->setup.profiles_dir + "/default.toml").c_str()), 0);
  config::StationConfig config = dev->config;
  auto refused = runtime::Station::Open(config);
  ASSERT_FALSE(refused.ok()) << "default_profile names a file that is gone";
  EXPECT_EQ(refused.error().reason, "BAD_CONFIG");
  config.issuance.pipeline.default_profile.clear();
  auto opened = runtime::Station::Open(config);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  for (const CertificateProfile* profile : (*opened)->pipeline().profiles())
    EXPECT_NE(profile->profile().name, "default");
  auto unnamed = IssueAndWait((*opened)->pipeline(), kLine, Request("n1", testing::MakeCsr("ec-p256").der, "dev-1"));
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.error().code, Code::kInvalidArgument);
  EXPECT_EQ(unnamed.error().reason, "PROFILE_REQUIRED");
  EXPECT_EQ((*opened)->audit_last_seq(), 0u);
  (*opened)->Shutdown();

  config.issuance.profiles_dir.clear();
  auto no_dir = runtime::Station::Open(config);
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.error().reason, "BAD_CONFIG");
}

}  // namespace
}  // namespace station::issuance
