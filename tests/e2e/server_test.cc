// The real station-server on a loopback port, over real gRPC with mutual TLS.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>

#include "station/base/files.h"
#include "station/client/channel.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/v1/station.grpc.pb.h"
#include "tests/support/csr_factory.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station {
namespace {

using testing::ProgramPath;
using testing::ServerCommand;
using testing::RunCommand;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_ = testing::MakeDevStation();
    ASSERT_TRUE(dev_);
    server_ = std::make_unique<testing::Background>(
        ServerCommand({"--config", dev_->setup.station_conf}));
    address_ = server_->WaitForListening();
    ASSERT_FALSE(address_.empty()) << server_->log();
    auto line = config::LoadLineConfig(dev_->setup.line_conf);
    ASSERT_TRUE(line.ok());
    line_ = *line;
    line_.target = address_;
  }

  std::unique_ptr<v1::LineSigner::Stub> Stub(const config::LineConfig& config) {
    auto channel = client::MakeChannel(config);
    EXPECT_TRUE(channel.ok());
    return v1::LineSigner::NewStub(*channel);
  }

  config::LineConfig Officer() {
    auto officer = config::LoadLineConfig(dev_->setup.line_conf.substr(0, dev_->setup.line_conf.rfind('/')) + "/officer.conf");
    EXPECT_TRUE(officer.ok());
    officer->target = address_;
    return *officer;
  }

  static v1::SignRequest Request(const std::string& id, const Bytes& csr, const std::string& device_id = "") {
    v1::SignRequest r;
    r.set_request_id(id);
    r.set_csr_der(csr.data(), csr.size());
    r.set_device_id(device_id);
    return r;
  }

  // Runs `openssl verify` on the certificate against the chain it came with.
  std::string OpenSslVerify(const v1::SignResponse& response) {
    std::string dir = dev_->dir.path();
    std::string chain;
    for (const auto& der : response.chain_der()) chain += pki::CertPem(pki::ParseCertDer(client::ToBytes(der))->get());
    EXPECT_TRUE(base::WriteFile(dir + "/chain.pem", chain).ok());
    auto cert = pki::ParseCertDer(client::ToBytes(response.certificate_der()));
    EXPECT_TRUE(cert.ok());
    EXPECT_TRUE(base::WriteFile(dir + "/leaf.pem", pki::CertPem(cert->get())).ok());
    auto r = RunCommand({"/usr/bin/openssl", "verify", "-CAfile", dir + "/chain.pem", dir + "/leaf.pem"});
    return r.output;
  }

  std::unique_ptr<testing::DevStation> dev_;
  std::unique_ptr<testing::Background> server_;
  std::string address_;
  config::LineConfig line_;
};

TEST_F(ServerTest, StreamSurvivesBadItemsAndEveryCertificateVerifies) {
  auto stub = Stub(line_);
  grpc::ClientContext ctx;
  auto stream = stub->SignStream(&ctx);
  auto p256 = testing::MakeCsr("ec-p256"), p384 = testing::MakeCsr("ec-p384"), rsa = testing::MakeCsr("rsa-2048");
  std::map<std::string, std::string> expected = {
      {"ok-p256", ""}, {"ok-p384", ""}, {"ok-rsa", ""},
      {"garbage", "CSR_MALFORMED"}, {"truncated", "CSR_MALFORMED"}, {"oversized", "CSR_TOO_LARGE"},
      {"tampered", "CSR_BAD_SIGNATURE"}, {"empty", "CSR_EMPTY"}, {"ok-after", ""}};
  ASSERT_TRUE(stream->Write(Request("ok-p256", p256.der, "thing-1")));
  ASSERT_TRUE(stream->Write(Request("garbage", Bytes(300, 0x5a))));
  ASSERT_TRUE(stream->Write(Request("truncated", Bytes(p256.der.begin(), p256.der.begin() + 40))));
  ASSERT_TRUE(stream->Write(Request("oversized", Bytes(20 * 1024, 0x30))));
  ASSERT_TRUE(stream->Write(Request("tampered", testing::TamperSignature(p384.der))));
  ASSERT_TRUE(stream->Write(Request("empty", {})));
  ASSERT_TRUE(stream->Write(Request("ok-p384", p384.der)));
  ASSERT_TRUE(stream->Write(Request("ok-rsa", rsa.der)));
  ASSERT_TRUE(stream->Write(Request("ok-after", testing::MakeCsr("ec-p256").der)));
  stream->WritesDone();
  v1::SignResponse response;
  std::set<std::string> answered;
  while (stream->Read(&response)) {
    ASSERT_TRUE(expected.count(response.request_id())) << response.request_id();
    answered.insert(response.request_id());
    const std::string& reason = expected[response.request_id()];
    if (reason.empty()) {
      ASSERT_EQ(response.code(), 0) << response.request_id() << ": " << response.reason() << " " << response.message();
      EXPECT_EQ(response.certificate_id(), Hex(Sha256(client::ToBytes(response.certificate_der()))));
      EXPECT_GT(response.audit_seq(), 0u);
      EXPECT_NE(OpenSslVerify(response).find(": OK"), std::string::npos) << response.request_id();
    } else {
      EXPECT_EQ(response.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT)) << response.request_id();
      EXPECT_EQ(response.reason(), reason) << response.request_id();
      EXPECT_FALSE(response.message().empty());
      EXPECT_TRUE(response.certificate_der().empty());
    }
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(answered.size(), expected.size());
}

TEST_F(ServerTest, PipelinedStreamAnswersEveryRequestWithUniqueSerials) {
  auto stub = Stub(line_);
  grpc::ClientContext ctx;
  auto stream = stub->SignStream(&ctx);
  constexpr int kCount = 300;
  std::thread writer([&] {
    for (int i = 0; i < kCount; ++i) stream->Write(Request("p" + std::to_string(i), testing::MakeCsr("ec-p256").der));
    stream->WritesDone();
  });
  std::set<std::string> ids, serials;
  v1::SignResponse response;
  while (stream->Read(&response)) {
    EXPECT_EQ(response.code(), 0) << response.message();
    ids.insert(response.request_id());
    serials.insert(response.serial_hex());
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kCount));
  EXPECT_EQ(serials.size(), static_cast<size_t>(kCount));
}

TEST_F(ServerTest, RetryOverTheWireReturnsTheSameCertificate) {
  auto stub = Stub(line_);
  auto csr = testing::MakeCsr("ec-p256");
  v1::SignResponse first, again, reused;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Sign(&ctx, Request("unary-1", csr.der, "thing-9"), &first).ok());
  }
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Sign(&ctx, Request("unary-1", csr.der, "thing-9"), &again).ok());
  }
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Sign(&ctx, Request("unary-1", testing::MakeCsr("ec-p256").der), &reused).ok());
  }
  ASSERT_EQ(first.code(), 0);
  EXPECT_EQ(again.code(), 0);
  EXPECT_EQ(again.certificate_der(), first.certificate_der());
  EXPECT_EQ(again.audit_seq(), first.audit_seq());
  EXPECT_EQ(reused.code(), static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(reused.reason(), "REQUEST_ID_REUSED");
}

TEST_F(ServerTest, GetCaChainReturnsTheIssuingCa) {
  auto stub = Stub(line_);
  grpc::ClientContext ctx;
  v1::GetCaChainResponse chain;
  ASSERT_TRUE(stub->GetCaChain(&ctx, v1::GetCaChainRequest(), &chain).ok());
  ASSERT_EQ(chain.chain_der_size(), 1);
  auto ca = pki::ReadCertsPem(dev_->setup.ca_cert);
  EXPECT_EQ(client::ToBytes(chain.chain_der(0)), CertDer(ca->front().get()));
}

TEST_F(ServerTest, OfficerMayNotRequestDeviceCertificates) {
  auto stub = Stub(Officer());
  grpc::ClientContext ctx;
  v1::SignResponse response;
  ASSERT_TRUE(stub->Sign(&ctx, Request("o1", testing::MakeCsr("ec-p256").der), &response).ok());
  EXPECT_EQ(response.code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_EQ(response.reason(), "ROLE_NOT_ALLOWED");
}

TEST_F(ServerTest, RefusesClientsWithoutAValidCertificate) {
  auto ca_pem = base::ReadFile(line_.ca);
  ASSERT_TRUE(ca_pem.ok());
  auto try_call = [&](const grpc::SslCredentialsOptions& options) {
    auto channel = grpc::CreateChannel(address_, grpc::SslCredentials(options));
    auto stub = v1::LineSigner::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetCaChainResponse chain;
    return stub->GetCaChain(&ctx, v1::GetCaChainRequest(), &chain);
  };
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = *ca_pem;
  grpc::Status status = try_call(no_cert);
  EXPECT_FALSE(status.ok());
  // A client certificate from another CA, with the right role in it.
  auto rogue_ca_key = pki::GenerateSoftwareKey("ec-p256");
  pki::CertSpec ca_spec{"CN=Rogue CA", 30, true, 0, {}, ""};
  auto rogue_ca = pki::MakeCert(ca_spec, rogue_ca_key->get(), rogue_ca_key->get(), nullptr);
  auto client_key = pki::GenerateSoftwareKey("ec-p256");
  pki::CertSpec client_spec{"CN=line-1,OU=line", 30, false, -1, {}, "clientAuth"};
  auto client_cert = pki::MakeCert(client_spec, client_key->get(), rogue_ca_key->get(), rogue_ca->get());
  ASSERT_TRUE(client_cert.ok());
  grpc::SslCredentialsOptions rogue = no_cert;
  rogue.pem_cert_chain = pki::CertPem(client_cert->get());
  rogue.pem_private_key = pki::PrivateKeyPem(client_key->get());
  EXPECT_FALSE(try_call(rogue).ok());
  // And the real line certificate works on the same server.
  auto stub = Stub(line_);
  grpc::ClientContext ctx;
  v1::GetCaChainResponse chain;
  EXPECT_TRUE(stub->GetCaChain(&ctx, v1::GetCaChainRequest(), &chain).ok());
}

TEST_F(ServerTest, SigtermDrainsAndTheAuditLogVerifies) {
  auto stub = Stub(line_);
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    v1::SignResponse response;
    ASSERT_TRUE(stub->Sign(&ctx, Request("t" + std::to_string(i), testing::MakeCsr("ec-p256").der), &response).ok());
    ASSERT_EQ(response.code(), 0);
  }
  EXPECT_EQ(server_->Stop(SIGTERM), 0) << server_->log();
  auto verify = RunCommand({ProgramPath("stationctl"), "audit", "verify", "--config", dev_->setup.station_conf});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("20 records"), std::string::npos) << verify.output;
  auto exported = RunCommand({ProgramPath("stationctl"), "audit", "export", "--config", dev_->setup.station_conf,
                              "--format", "jsonl", "--out", dev_->dir.path() + "/export.jsonl"});
  EXPECT_EQ(exported.exit_code, 0) << exported.output;
  std::ifstream lines(dev_->dir.path() + "/export.jsonl");
  int n = 0;
  for (std::string line; std::getline(lines, line);) ++n;
  EXPECT_EQ(n, 20);
  // Change one record behind the station's back: verify names it.
  std::string db = dev_->config.audit_db_path();
  auto tamper = RunCommand({"/usr/bin/sqlite3", db, "UPDATE issuance SET subject = 'CN=forged' WHERE seq = 5"});
  ASSERT_EQ(tamper.exit_code, 0) << tamper.output;
  auto broken = RunCommand({ProgramPath("stationctl"), "audit", "verify", "--config", dev_->setup.station_conf});
  EXPECT_EQ(broken.exit_code, 1) << broken.output;
  EXPECT_NE(broken.output.find("record 5"), std::string::npos) << broken.output;
}

}  // namespace
}  // namespace station
