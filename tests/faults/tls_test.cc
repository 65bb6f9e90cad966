// TLS against the real server: protocol versions and cipher suites, client
// certificates out of their validity, from another CA or revoked by the
// configured revocation list. A raw OpenSSL client probes the handshake; gRPC
// closes a refused one without an alert, so each refusal is checked against
// the reason the server logged, and each test has a control that gets in.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <csignal>
#include <map>

#include "station/base/files.h"
#include "station/client/channel.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/v1/station.grpc.pb.h"
#include "tests/support/csr_factory.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station::testing {
namespace {

using SslCtxPtr = OsslPtr<SSL_CTX, SSL_CTX_free>;
using SslPtr = OsslPtr<SSL, SSL_free>;

struct Handshake {
  bool ok = false;
  std::string version, cipher;
  std::string error;  // what the client saw
};

std::string LastSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no OpenSSL error (connection closed)";
  const char* reason = ERR_reason_error_string(e);
  return reason ? reason : std::to_string(e);
}

// One handshake with exactly `version` and, when given, only `ciphers`, then
// one read: the server only speaks (HTTP/2 settings) to a client it accepted.
// Under TLS 1.3 a refused client certificate shows up at that read.
Handshake Probe(const std::string& address, const std::string& server_ca, int version,
                const ClientIdentity& client, const std::string& ciphers = "") {
  Handshake out;
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_security_level(ctx.get(), 0);  // let this client offer what the server must refuse
  SSL_CTX_set_min_proto_version(ctx.get(), version);
  SSL_CTX_set_max_proto_version(ctx.get(), version);
  if (!ciphers.empty()) SSL_CTX_set_cipher_list(ctx.get(), (ciphers + ":@SECLEVEL=0").c_str());
  SSL_CTX_load_verify_locations(ctx.get(), server_ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!client.cert.empty() && (SSL_CTX_use_certificate_chain_file(ctx.get(), client.cert.c_str()) != 1 ||
                               SSL_CTX_use_PrivateKey_file(ctx.get(), client.key.c_str(), SSL_FILETYPE_PEM) != 1)) {
    out.error = "client identity: " + LastSslError();
    return out;
  }
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof kAlpn);

  BIO* bio = BIO_new_connect(address.c_str());
  if (BIO_do_connect(bio) != 1) {
    BIO_free(bio);
    out.error = "connect: " + LastSslError();
    return out;
  }
  timeval timeout{5, 0};
  setsockopt(static_cast<int>(BIO_get_fd(bio, nullptr)), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_bio(ssl.get(), bio, bio);
  if (SSL_connect(ssl.get()) != 1) {
    out.error = LastSslError();
    return out;
  }
  static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
  char byte = 0;
  if (SSL_write(ssl.get(), kPreface, sizeof kPreface - 1) <= 0 || SSL_read(ssl.get(), &byte, 1) != 1) {
    out.error = LastSslError();
    return out;
  }
  out.ok = true;
  out.version = SSL_get_version(ssl.get());
  out.cipher = SSL_get_cipher_name(ssl.get());
  return out;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);  // a probe may write to a connection the server closed
    dev_ = MakeDevStation();
    ASSERT_TRUE(dev_);
    dir_ = dev_->dir.path() + "/station/tls";
    DevTlsCa ca = LoadDevTlsCa(*dev_);
    ASSERT_TRUE(ca.cert && ca.key);
    ca_ = std::move(ca.cert);
    ca_key_ = std::move(ca.key);
    line_1_ = {dir_ + "/line-1.pem", dir_ + "/line-1.key"};
  }

  // `env`: NAME=VALUE pairs for the server's environment.
  void StartServer(const std::vector<std::string>& env = {}) {
    std::vector<std::string> command = {"/usr/bin/env"};
    command.insert(command.end(), env.begin(), env.end());
    for (const std::string& arg : ServerCommand({"--config", dev_->setup.station_conf})) command.push_back(arg);
    server_ = std::make_unique<Background>(command);
    address_ = server_->WaitForListening();
    ASSERT_FALSE(address_.empty()) << server_->log();
  }

  Handshake Probe(int version, const ClientIdentity& client, const std::string& ciphers = "") {
    return testing::Probe(address_, dir_ + "/tls-ca.pem", version, client, ciphers);
  }

  // The probe was refused, and the server logged `reason` for it (OpenSSL's
  // words, e.g. "certificate verify failed").
  void ExpectRefused(const Handshake& h, const std::string& reason, const std::string& what) {
    EXPECT_FALSE(h.ok) << what << " got in: " << h.version << " " << h.cipher;
    std::string log = server_->log();
    size_t count = 0;
    for (size_t at = log.find(reason); at != std::string::npos; at = log.find(reason, at + 1)) ++count;
    EXPECT_EQ(count, ++refusals_[reason]) << what << ": the server did not log '" << reason << "'\n" << log;
  }

  ClientIdentity MakeLine(const std::string& name, int starts_in_days, int validity_days, X509* issuer = nullptr,
                          EVP_PKEY* issuer_key = nullptr) {
    return MakeClientIdentity(*dev_, name, {"line", starts_in_days, validity_days, issuer, issuer_key});
  }

  // A revocation list signed by `key` as `issuer`, listing `revoked`, due
  // again in `next_update_days` (negative: already expired).
  std::string WriteCrl(const std::vector<X509*>& revoked, int next_update_days, X509* issuer = nullptr,
                       EVP_PKEY* key = nullptr) {
    OsslPtr<X509_CRL, X509_CRL_free> crl(X509_CRL_new());
    X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2);
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer ? issuer : ca_.get()));
    Asn1TimePtr last(X509_gmtime_adj(nullptr, static_cast<long>(std::min(next_update_days, 0)) * 86400 - 86400));
    Asn1TimePtr next(X509_gmtime_adj(nullptr, static_cast<long>(next_update_days) * 86400));
    X509_CRL_set1_lastUpdate(crl.get(), last.get());
    X509_CRL_set1_nextUpdate(crl.get(), next.get());
    for (X509* cert : revoked) {
      X509_REVOKED* entry = X509_REVOKED_new();
      X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(cert));
      X509_REVOKED_set_revocationDate(entry, last.get());
      X509_CRL_add0_revoked(crl.get(), entry);
    }
    X509_CRL_sort(crl.get());
    EXPECT_GT(X509_CRL_sign(crl.get(), key ? key : ca_key_.get(), EVP_sha256()), 0);
    BioPtr out(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_CRL(out.get(), crl.get());
    char* data = nullptr;
    long size = BIO_get_mem_data(out.get(), &data);
    std::string path = dir_ + "/clients.crl";
    EXPECT_TRUE(base::WriteFile(path, std::string(data, static_cast<size_t>(size))).ok());
    return path;
  }

  // Names the list in station.conf's [tls] table.
  void ConfigureCrl(const std::string& path) {
    auto text = base::ReadFile(dev_->setup.station_conf);
    ASSERT_TRUE(text.ok());
    const std::string table = "[tls]\n";
    ASSERT_NE(text->find(table), std::string::npos);
    text->insert(text->find(table) + table.size(), "crl = \"" + path + "\"\n");
    ASSERT_TRUE(base::WriteFile(dev_->setup.station_conf, *text).ok());
  }

  // One Sign through gRPC as the line with this identity.
  grpc::Status SignAs(const ClientIdentity& id, const std::string& request_id) {
    auto channel = client::MakeChannel(LineAs(*dev_, address_, id));
    EXPECT_TRUE(channel.ok());
    v1::SignRequest request;
    request.set_request_id(request_id);
    Bytes csr = MakeCsr("ec-p256", request_id).der;
    request.set_csr_der(csr.data(), csr.size());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::SignResponse response;
    grpc::Status status = v1::LineSigner::NewStub(*channel)->Sign(&ctx, request, &response);
    if (status.ok()) {
      EXPECT_EQ(response.code(), 0) << response.reason();
    }
    return status;
  }

  std::unique_ptr<DevStation> dev_;
  std::string dir_;
  X509Ptr ca_;
  EvpPkeyPtr ca_key_;
  ClientIdentity line_1_;
  std::unique_ptr<Background> server_;
  std::string address_;
  std::map<std::string, size_t> refusals_;  // reason -> refusals seen so far
};

TEST_F(TlsTest, OnlyTls12AndTls13AreSpoken) {
  StartServer();
  ExpectRefused(Probe(TLS1_VERSION, line_1_), "unsupported protocol", "TLS 1.0");
  ExpectRefused(Probe(TLS1_1_VERSION, line_1_), "unsupported protocol", "TLS 1.1");
  Handshake tls12 = Probe(TLS1_2_VERSION, line_1_);
  EXPECT_TRUE(tls12.ok) << tls12.error;
  EXPECT_EQ(tls12.version, "TLSv1.2");
  Handshake tls13 = Probe(TLS1_3_VERSION, line_1_);
  EXPECT_TRUE(tls13.ok) << tls13.error;
  EXPECT_EQ(tls13.version, "TLSv1.3");
}

TEST_F(TlsTest, Tls12OffersOnlyForwardSecretAeadSuites) {
  // gRPC takes its suites from this variable; the station overrides a weak list.
  StartServer({"GRPC_SSL_CIPHER_SUITES=ECDHE-ECDSA-AES128-SHA:AES128-GCM-SHA256:AES256-SHA"});
  // CBC with SHA-1 or SHA-2, no forward secrecy, no encryption at all.
  for (const char* weak : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256",
                           "ECDHE-ECDSA-AES256-SHA384", "AES128-GCM-SHA256", "AES256-SHA", "ECDHE-ECDSA-NULL-SHA"})
    ExpectRefused(Probe(TLS1_2_VERSION, line_1_, weak), "no shared cipher", weak);
  // Offered everything, the server picks ECDHE with AES-GCM.
  Handshake any = Probe(TLS1_2_VERSION, line_1_, "ALL:eNULL");
  ASSERT_TRUE(any.ok) << any.error;
  EXPECT_TRUE(any.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256" || any.cipher == "ECDHE-ECDSA-AES256-GCM-SHA384")
      << any.cipher;
}

TEST_F(TlsTest, ClientCertificatesOutsideTheirValidityOrFromAnotherCaAreRefused) {
  StartServer();
  ClientIdentity expired = MakeLine("line-expired", -30, 10);
  ClientIdentity not_yet = MakeLine("line-not-yet-valid", 10, 365);
  pki::CertSpec other_spec;
  other_spec.subject = "CN=Some Other CA";
  other_spec.is_ca = true;
  auto other_key = pki::GenerateSoftwareKey("ec-p256");
  ASSERT_TRUE(other_key.ok());
  auto other_ca = pki::MakeCert(other_spec, other_key->get(), other_key->get(), nullptr);
  ASSERT_TRUE(other_ca.ok());
  ClientIdentity stranger = MakeLine("line-stranger", 0, 365, other_ca->get(), other_key->get());
  ClientIdentity fresh = MakeLine("line-fresh", 0, 365);

  const std::string kVerifyFailed = "certificate verify failed";
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    const std::string v = version == TLS1_2_VERSION ? "TLS 1.2: " : "TLS 1.3: ";
    ExpectRefused(Probe(version, expired), kVerifyFailed, v + "expired");
    ExpectRefused(Probe(version, not_yet), kVerifyFailed, v + "not yet valid");
    ExpectRefused(Probe(version, stranger), kVerifyFailed, v + "another CA");
    ExpectRefused(Probe(version, {}), "peer did not return a certificate", v + "no certificate");
    Handshake control = Probe(version, fresh);
    EXPECT_TRUE(control.ok) << v << control.error;
  }

  // Through gRPC: refused lines get UNAVAILABLE, a fresh certificate signs.
  EXPECT_EQ(SignAs(expired, "tls-expired").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(SignAs(not_yet, "tls-not-yet").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(SignAs(stranger, "tls-stranger").error_code(), grpc::StatusCode::UNAVAILABLE);
  grpc::Status ok = SignAs(fresh, "tls-fresh");
  EXPECT_TRUE(ok.ok()) << ok.error_message();
}

TEST_F(TlsTest, ARevokedClientCertificateIsRefusedWhenACrlIsConfigured) {
  ClientIdentity revoked = MakeLine("line-revoked", 0, 365);
  auto revoked_cert = pki::ReadCertsPem(revoked.cert);
  ASSERT_TRUE(revoked_cert.ok());
  ConfigureCrl(WriteCrl({(*revoked_cert)[0].get()}, 7));
  StartServer();
  EXPECT_NE(server_->log().find("1 revoked"), std::string::npos) << server_->log();
  EXPECT_EQ(server_->log().find("WARNING the [tls] crl"), std::string::npos) << "a week ahead is no reason to warn";

  ExpectRefused(Probe(TLS1_2_VERSION, revoked), "certificate verify failed", "revoked, TLS 1.2");
  ExpectRefused(Probe(TLS1_3_VERSION, revoked), "certificate verify failed", "revoked, TLS 1.3");
  EXPECT_EQ(SignAs(revoked, "tls-revoked").error_code(), grpc::StatusCode::UNAVAILABLE);

  // Lines not on the list still sign.
  EXPECT_TRUE(Probe(TLS1_3_VERSION, line_1_).ok);
  grpc::Status ok = SignAs(line_1_, "tls-line-1");
  EXPECT_TRUE(ok.ok()) << ok.error_message();
}

TEST_F(TlsTest, ACrlDueWithinTwoDaysIsWarnedAboutAtStart) {
  ConfigureCrl(WriteCrl({}, 1));
  StartServer();
  EXPECT_NE(server_->log().find("WARNING the [tls] crl is due for its next update"), std::string::npos)
      << server_->log();
  EXPECT_TRUE(Probe(TLS1_3_VERSION, line_1_).ok);  // still valid: lines get in
}

// A device gets its issuing CA's chain and presents it: with that CA (or its
// root) as client_ca, a device certificate would be a station credential.
// (Officers cannot stage such a CA either: tests/station/officer/approvals_test.cc.)
TEST_F(TlsTest, AClientCaThatIssuesDevicesStopsTheServerAtStart) {
  for (const std::string& client_ca : {dev_->setup.ca_cert, dev_->setup.matter_paa_cert}) {
    auto text = base::ReadFile(dev_->setup.station_conf);
    ASSERT_TRUE(text.ok());
    const std::string line = "client_ca = \"tls/tls-ca.pem\"";
    ASSERT_NE(text->find(line), std::string::npos);
    std::string changed = *text;
    changed.replace(changed.find(line), line.size(), "client_ca = \"" + client_ca + "\"");
    ASSERT_TRUE(base::WriteFile(dev_->setup.station_conf, changed).ok());
    CommandResult r = RunCommand(ServerCommand({"--config", dev_->setup.station_conf}));
    EXPECT_NE(r.exit_code, 0) << client_ca;
    EXPECT_NE(r.output.find("TLS_CLIENT_CA_ISSUES_DEVICES"), std::string::npos) << r.output;
    ASSERT_TRUE(base::WriteFile(dev_->setup.station_conf, *text).ok());
  }
  StartServer();  // its own TLS CA: it starts
}

TEST_F(TlsTest, AnUnusableCrlStopsTheServerAtStart) {
  auto run = [&] {
    CommandResult r = RunCommand(ServerCommand({"--config", dev_->setup.station_conf}));
    EXPECT_NE(r.exit_code, 0);
    return r.output;
  };
  // Signed by a key that is not the client CA's.
  auto other_key = pki::GenerateSoftwareKey("ec-p256");
  ASSERT_TRUE(other_key.ok());
  ConfigureCrl(WriteCrl({}, 7, nullptr, other_key->get()));
  std::string forged = run();
  EXPECT_NE(forged.find("TLS_CRL_INVALID"), std::string::npos) << forged;
  EXPECT_NE(forged.find("signature does not verify"), std::string::npos) << forged;
  // Past its nextUpdate (the config still names the same file).
  WriteCrl({}, -1);
  std::string stale = run();
  EXPECT_NE(stale.find("expired at"), std::string::npos) << stale;
  // Not a CRL at all.
  ASSERT_TRUE(base::WriteFile(dir_ + "/clients.crl", "not a list\n").ok());
  std::string garbage = run();
  EXPECT_NE(garbage.find("holds no PEM revocation list"), std::string::npos) << garbage;
}

}  // namespace
}  // namespace station::testing
