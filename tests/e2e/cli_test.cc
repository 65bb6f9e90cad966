// stationctl, station-line and station-server as an operator runs them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "station/base/files.h"
#include "station/base/version.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station {
namespace {

using testing::ProgramPath;
using testing::ServerCommand;
using testing::RunCommand;

class CliTest : public ::testing::Test {
 protected:
  std::string Dir() const { return tmp_.path() + "/dev"; }
  testing::CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), ProgramPath("stationctl"));
    return RunCommand(args);
  }
  void DevSetup(const std::string& ca_key = "ec-p256") {
    auto r = Ctl({"dev-setup", "--dir", Dir(), "--listen", "127.0.0.1:0", "--ca-key", ca_key});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  std::string StartServer(testing::Background& server) {
    std::string address = server.WaitForListening();
    EXPECT_FALSE(address.empty()) << server.log();
    return address;
  }
  testing::TempDir tmp_;
};

// Every program says which version it is (CMake's project VERSION), and
// exits 0, needing nothing else: no config, no token.
TEST_F(CliTest, EveryProgramPrintsItsVersion) {
  for (const char* program : {"station-server", "stationctl", "station-line"}) {
    auto r = RunCommand({ProgramPath(program), "--version"});
    EXPECT_EQ(r.exit_code, 0) << program << ": " << r.output;
    EXPECT_EQ(r.output, base::VersionLine(program) + "\n");
  }
  // The version is CMake's, written once in project().
  auto cmake = base::ReadFile(std::string(STATION_SOURCE_DIR) + "/CMakeLists.txt");
  ASSERT_TRUE(cmake.ok());
  EXPECT_NE(cmake->find(std::string("project(signing_station VERSION ") + base::Version() + " "), std::string::npos);
}

TEST_F(CliTest, DevSetupMakesAStationThatSignsCsrsFromFiles) {
  DevSetup();
  for (const char* secret : {"/secrets/user.pin", "/secrets/so.pin", "/tls/server.key", "/tls/line-1.key"}) {
    struct stat st {};
    ASSERT_EQ(stat((Dir() + secret).c_str(), &st), 0) << secret;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << secret;
  }
  auto again = Ctl({"dev-setup", "--dir", Dir()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("ALREADY_SET_UP"), std::string::npos) << again.output;

  testing::Background server(ServerCommand({"--config", Dir() + "/station.conf"}));
  std::string address = StartServer(server);
  // A person's own CSR, made with the openssl CLI, signed with station-line.
  auto csr = RunCommand({"/usr/bin/openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                         "-nodes", "-keyout", tmp_.path() + "/mine.key", "-subj", "/CN=my-device",
                         "-out", tmp_.path() + "/mine.csr"});
  ASSERT_EQ(csr.exit_code, 0) << csr.output;
  auto sign = RunCommand({ProgramPath("station-line"), "--config", Dir() + "/line.conf", "--target", address, "sign",
                          tmp_.path() + "/mine.csr", "--out", tmp_.path() + "/out"});
  ASSERT_EQ(sign.exit_code, 0) << sign.output;
  auto verify = RunCommand({"/usr/bin/openssl", "verify", "-CAfile", Dir() + "/ca/ca.pem", tmp_.path() + "/out/mine.pem"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  auto chain_verify = RunCommand({"/usr/bin/openssl", "verify", "-CAfile", tmp_.path() + "/out/mine.chain.pem",
                                  tmp_.path() + "/out/mine.pem"});
  EXPECT_EQ(chain_verify.exit_code, 0) << chain_verify.output;
  // A bad CSR file gets a clear error and a non-zero exit.
  ASSERT_TRUE(base::WriteFile(tmp_.path() + "/bad.csr", "not a csr").ok());
  auto bad = RunCommand({ProgramPath("station-line"), "--config", Dir() + "/line.conf", "--target", address, "sign",
                         tmp_.path() + "/bad.csr", "--out", tmp_.path() + "/out"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("CSR_MALFORMED"), std::string::npos) << bad.output;
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

TEST_F(CliTest, SimulateVerifiesEveryCertificateAndWritesThem) {
  DevSetup("ec-p384");
  testing::Background server(ServerCommand({"--config", Dir() + "/station.conf"}));
  std::string address = StartServer(server);
  auto sim = RunCommand({ProgramPath("station-line"), "--config", Dir() + "/line.conf", "--target", address, "simulate",
                         "--devices", "200", "--streams", "3", "--json", "--out", tmp_.path() + "/certs"});
  ASSERT_EQ(sim.exit_code, 0) << sim.output;
  EXPECT_NE(sim.output.find("\"issued\":200"), std::string::npos) << sim.output;
  EXPECT_NE(sim.output.find("\"verify_failures\":0"), std::string::npos) << sim.output;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(tmp_.path() + "/certs")) files += entry.is_regular_file();
  EXPECT_EQ(files, 201u) << "200 certificates and chain.pem";
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  auto verify = Ctl({"audit", "verify", "--config", Dir() + "/station.conf"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

TEST_F(CliTest, CaInitAndImportCertCheckTheTokenKey) {
  DevSetup();
  std::string conf = Dir() + "/station.conf";
  auto self = Ctl({"ca", "init", "--config", conf, "--label", "second-ca", "--key", "ec-p384",
                   "--subject", "CN=Second CA,O=Test", "--self-signed", tmp_.path() + "/second.pem"});
  ASSERT_EQ(self.exit_code, 0) << self.output;
  EXPECT_NE(self.output.find("pkcs11:token=station;object=second-ca;type=private"), std::string::npos) << self.output;
  auto text = RunCommand({"/usr/bin/openssl", "x509", "-in", tmp_.path() + "/second.pem", "-noout", "-text"});
  EXPECT_NE(text.output.find("CA:TRUE"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("ecdsa-with-SHA384"), std::string::npos);
  auto selfcheck = RunCommand({"/usr/bin/openssl", "verify", "-CAfile", tmp_.path() + "/second.pem", tmp_.path() + "/second.pem"});
  EXPECT_EQ(selfcheck.exit_code, 0) << selfcheck.output;

  auto csr = Ctl({"ca", "init", "--config", conf, "--label", "third-ca", "--subject", "CN=Third CA",
                  "--csr", tmp_.path() + "/third.csr"});
  ASSERT_EQ(csr.exit_code, 0) << csr.output;
  auto csr_check = RunCommand({"/usr/bin/openssl", "req", "-in", tmp_.path() + "/third.csr", "-verify", "-noout"});
  EXPECT_EQ(csr_check.exit_code, 0) << csr_check.output;
  auto dup = Ctl({"ca", "init", "--config", conf, "--label", "third-ca", "--subject", "CN=X", "--csr", tmp_.path() + "/x.csr"});
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_NE(dup.output.find("KEY_EXISTS"), std::string::npos) << dup.output;

  // The station's own key (station-ca) does not match the second CA's certificate...
  auto mismatch = Ctl({"ca", "import-cert", "--config", conf, "--cert", tmp_.path() + "/second.pem"});
  EXPECT_NE(mismatch.exit_code, 0);
  EXPECT_NE(mismatch.output.find("CA_CERT_KEY_MISMATCH"), std::string::npos) << mismatch.output;
  // ...but its own certificate does.
  auto match = Ctl({"ca", "import-cert", "--config", conf, "--cert", Dir() + "/ca/ca.pem"});
  EXPECT_EQ(match.exit_code, 0) << match.output;
}

// The factory hierarchy: an offline root (software, as on an air-gapped
// machine) certifies an issuing CA whose key is generated in the station's
// token; devices get certificates that chain through it to the root.
TEST_F(CliTest, OfflineRootCeremonyIssuesDevicesThatChainToTheRoot) {
  DevSetup();
  std::string conf = Dir() + "/station.conf", t = tmp_.path();
  auto openssl = [](std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    return RunCommand(args);
  };
  for (const char* root : {"root", "other-root"}) {
    auto made = openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout",
                         t + "/" + root + ".key", "-out", t + "/" + root + ".pem", "-subj",
                         std::string("/CN=Acme Offline ") + root, "-days", "3650", "-addext",
                         "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  auto keygen = Ctl({"ca", "keygen", "--config", conf, "--algo", "ec-p384", "--label", "line-ca-2"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
  for (const char* attr : {"CKA_LOCAL=true", "CKA_EXTRACTABLE=false", "CKA_NEVER_EXTRACTABLE=true",
                           "CKA_SENSITIVE=true", "CKA_DECRYPT=false", "CKA_UNWRAP=false", "CKA_DERIVE=false"})
    EXPECT_NE(keygen.output.find(attr), std::string::npos) << attr << "\n" << keygen.output;
  auto csr = Ctl({"ca", "csr", "--config", conf, "--label", "line-ca-2", "--subject", "CN=Acme Line CA 2,O=Acme",
                  "--out", t + "/line-ca-2.csr"});
  ASSERT_EQ(csr.exit_code, 0) << csr.output;
  ASSERT_TRUE(base::WriteFile(t + "/ca.ext", "basicConstraints=critical,CA:TRUE,pathlen:0\n"
                                            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature\n"
                                            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n").ok());
  ASSERT_TRUE(base::WriteFile(t + "/leaf.ext", "basicConstraints=critical,CA:FALSE\n").ok());
  for (auto [out, ext] : {std::pair<std::string, std::string>{"line-ca-2.pem", "ca.ext"}, {"not-ca.pem", "leaf.ext"}}) {
    auto signed_by_root = openssl({"x509", "-req", "-in", t + "/line-ca-2.csr", "-CA", t + "/root.pem", "-CAkey",
                                   t + "/root.key", "-days", "1825", "-extfile", t + "/" + ext, "-out", t + "/" + out});
    ASSERT_EQ(signed_by_root.exit_code, 0) << signed_by_root.output;
  }

  // The officer points [ca] at the new key and names the roots the station trusts.
  auto text = base::ReadFile(conf);
  ASSERT_TRUE(text.ok());
  std::string station_conf = *text;
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = station_conf.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    station_conf.replace(at, from.size(), to);
  };
  replace("object=station-ca;", "object=line-ca-2;");
  replace("root = \"ca/roots.pem\"", "root = \"roots.pem\"");
  ASSERT_TRUE(base::WriteFile(conf, station_conf).ok());
  auto import = [&](const std::string& roots, const std::string& cert) {
    auto dev_roots = base::ReadFile(Dir() + "/ca/roots.pem");
    EXPECT_TRUE(dev_roots.ok());
    EXPECT_TRUE(base::WriteFile(Dir() + "/roots.pem", *base::ReadFile(t + "/" + roots) + *dev_roots).ok());
    return Ctl({"ca", "import-cert", "--config", conf, "--cert", t + "/" + cert});
  };
  auto wrong_root = import("other-root.pem", "line-ca-2.pem");
  EXPECT_EQ(wrong_root.exit_code, 1);
  EXPECT_NE(wrong_root.output.find("CA_CHAIN_INVALID"), std::string::npos) << wrong_root.output;
  auto not_ca = import("root.pem", "not-ca.pem");
  EXPECT_EQ(not_ca.exit_code, 1);
  EXPECT_NE(not_ca.output.find("CA_CERT_NOT_CA"), std::string::npos) << not_ca.output;
  auto imported = import("root.pem", "line-ca-2.pem");
  ASSERT_EQ(imported.exit_code, 0) << imported.output;

  testing::Background server(ServerCommand({"--config", conf}));
  std::string address = StartServer(server);
  auto device = openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                         t + "/dev.key", "-subj", "/CN=device-0001", "-out", t + "/dev.csr"});
  ASSERT_EQ(device.exit_code, 0) << device.output;
  auto sign = RunCommand({ProgramPath("station-line"), "--config", Dir() + "/line.conf", "--target", address, "sign",
                          t + "/dev.csr", "--out", t + "/out"});
  ASSERT_EQ(sign.exit_code, 0) << sign.output;
  // The device gets its certificate and the issuing CA; the root it already trusts.
  auto chain = pki::ReadCertsPem(t + "/out/dev.chain.pem");
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 1u);
  EXPECT_EQ(pki::NameText(X509_get_subject_name(chain->front().get())), "O=Acme,CN=Acme Line CA 2");  // RFC 2253 order
  auto verify = openssl({"verify", "-x509_strict", "-CAfile", t + "/root.pem", "-untrusted", t + "/out/dev.chain.pem",
                         t + "/out/dev.pem"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  auto other = openssl({"verify", "-CAfile", t + "/other-root.pem", "-untrusted", t + "/out/dev.chain.pem",
                        t + "/out/dev.pem"});
  EXPECT_NE(other.exit_code, 0);
  EXPECT_EQ(server.Stop(SIGTERM), 0);

  // Registering the issuing CA with AWS IoT.
  const std::string code = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
  auto reg = Ctl({"aws", "verification-cert", "--config", conf, "--ca", "line-ca-2", "--registration-code", code,
                  "--out", t + "/aws"});
  ASSERT_EQ(reg.exit_code, 0) << reg.output;
  EXPECT_NE(reg.output.find("aws iot register-ca-certificate --ca-certificate file://" + t + "/aws/ca.pem "
                            "--verification-cert file://" + t + "/aws/verification.pem --set-as-active "
                            "--allow-auto-registration"),
            std::string::npos)
      << reg.output;
  auto v = openssl({"verify", "-partial_chain", "-CAfile", t + "/aws/ca.pem", t + "/aws/verification.pem"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
  auto subject = openssl({"x509", "-in", t + "/aws/verification.pem", "-noout", "-subject", "-nameopt", "RFC2253"});
  EXPECT_EQ(subject.output, "subject=CN=" + code + "\n");
  auto json = RunCommand({"/usr/bin/python3", "-m", "json.tool", t + "/aws/registration-config.json"});
  EXPECT_EQ(json.exit_code, 0) << json.output;
  auto bad = Ctl({"aws", "verification-cert", "--config", conf, "--ca", "line-ca-2", "--registration-code", "a b",
                  "--out", t + "/aws2"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("REGISTRATION_CODE_INVALID"), std::string::npos) << bad.output;
}

// Fleet provisioning by claim: the claim CA is not the JITR CA, its policy
// allows the provisioning topics only, and a claim is never made a thing.
TEST_F(CliTest, ClaimSetupGivesTheCloudAClaimCaOfItsOwn) {
  DevSetup();
  const std::string t = tmp_.path(), conf = Dir() + "/station.conf";
  const std::string code = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
  std::vector<std::string> args{"aws", "claim-setup", "--config", conf, "--registration-code", code, "--region",
                                "eu-west-1", "--account-id", "123456789012", "--template-name", "factory",
                                "--device-policy-name", "device-policy", "--out", t + "/claim"};
  auto setup = Ctl(args);
  ASSERT_EQ(setup.exit_code, 0) << setup.output;
  EXPECT_NE(setup.output.find("--registration-config file://" + t + "/claim/claim-registration-config.json"),
            std::string::npos) << setup.output;
  EXPECT_NE(setup.output.find("create-provisioning-template --template-name factory"), std::string::npos);
  auto same = RunCommand({"/usr/bin/cmp", "-s", t + "/claim/claim-ca.pem", Dir() + "/ca/ca.pem"});
  EXPECT_NE(same.exit_code, 0) << "the claim CA is not the CA registered for JITR";
  auto v = RunCommand({"/usr/bin/openssl", "verify", "-partial_chain", "-CAfile", t + "/claim/claim-ca.pem",
                       t + "/claim/claim-verification.pem"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
  // Every file parses; the claim policy names the two provisioning topics and nothing else.
  const std::string check = R"(
import json, sys
d = sys.argv[1]
for f in ("claim-policy.json", "claim-registration-config.json", "provisioning-template.json"):
    json.load(open(d + "/" + f))
policy = json.load(open(d + "/claim-policy.json"))
resources = set()
for s in policy["Statement"]:
    assert s["Effect"] == "Allow", s
    resources.update(s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
topics = {r.split(":", 5)[5] for r in resources}
assert topics == {"client/*", "topic/$aws/certificates/create-from-csr/*",
                  "topicfilter/$aws/certificates/create-from-csr/*",
                  "topic/$aws/provisioning-templates/factory/provision/*",
                  "topicfilter/$aws/provisioning-templates/factory/provision/*"}, topics
claim = json.loads(json.load(open(d + "/claim-registration-config.json"))["templateBody"])
types = {r["Type"] for r in claim["Resources"].values()}
assert types == {"AWS::IoT::Certificate", "AWS::IoT::Policy"}, types
assert [r["Properties"]["PolicyName"] for r in claim["Resources"].values() if r["Type"] == "AWS::IoT::Policy"] == ["factory-claim"]
fleet = json.load(open(d + "/provisioning-template.json"))
assert fleet["Resources"]["thing"]["Properties"]["ThingName"] == {"Ref": "SerialNumber"}
assert fleet["Resources"]["policy"]["Properties"]["PolicyName"] == "device-policy"
print("claim setup OK")
)";
  auto parsed = RunCommand({"/usr/bin/python3", "-c", check, t + "/claim"});
  EXPECT_EQ(parsed.exit_code, 0) << parsed.output;

  auto refused = [&](std::vector<std::string> changed, const std::string& reason) {
    auto r = Ctl(changed);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find(reason), std::string::npos) << r.output;
  };
  auto with = [&](const std::string& flag, const std::string& value) {
    std::vector<std::string> changed = args;
    for (size_t i = 0; i + 1 < changed.size(); ++i)
      if (changed[i] == flag) changed[i + 1] = value;
    changed.back() = t + "/claim-2";
    return changed;
  };
  refused(with("--region", "eu west 1"), "--region");
  refused(with("--account-id", "12345"), "--account-id");
  refused(with("--template-name", "a/b"), "--template-name");
  refused(with("--device-policy-name", "p\"q"), "policy names");
  std::vector<std::string> jitr = args;
  jitr.insert(jitr.end(), {"--profile", "aws-iot-device"});
  refused(jitr, "CLAIM_PROFILE_NOT_FOUND");

  // A claim profile moved onto the JITR CA: the station refuses to start.
  auto profile = base::ReadFile(Dir() + "/profiles/fleet-claim.toml");
  ASSERT_TRUE(profile.ok());
  std::string shared = *profile;
  shared.replace(shared.find("object=claim-ca"), 15, "object=station-ca");
  shared.replace(shared.find("../ca/claim-ca.pem"), 18, "../ca/ca.pem");
  ASSERT_TRUE(base::WriteFile(Dir() + "/profiles/fleet-claim.toml", shared).ok());
  auto start = RunCommand(ServerCommand({"--config", conf}), 60);
  EXPECT_EQ(start.exit_code, 78) << start.output;
  EXPECT_NE(start.output.find("CLAIM_CA_SHARED"), std::string::npos) << start.output;
}

// --help on every program and subcommand answers its usage (exit 0, stdout);
// a wrong flag gets the error and that usage (exit 2).
TEST_F(CliTest, EveryCommandExplainsItself) {
  const std::vector<std::vector<std::string>> commands = {
      {"dev-setup"}, {"ca", "keygen"}, {"ca", "csr"}, {"ca", "self-sign"}, {"ca", "init"}, {"ca", "import-cert"},
      {"ca", "restrict"}, {"ca", "list"}, {"ca", "stage"}, {"ca", "activate"}, {"ca", "retire"},
      {"aws", "verification-cert"}, {"aws", "claim-setup"}, {"audit", "init-key"}, {"audit", "verify"},
      {"audit", "prove"}, {"audit", "check-proof"}, {"audit", "export"}, {"store", "migrate"},
      {"profile", "check"}, {"profile", "list"}, {"profile", "set-lines"}, {"lot", "import"}, {"lot", "close"},
      {"lot", "list"}, {"codes", "mint"}, {"device", "approve-reissue"}};
  for (const auto& command : commands) {
    std::vector<std::string> args = command;
    args.push_back("--help");
    auto help = Ctl(args);
    const std::string named = "stationctl " + command[0] + (command.size() > 1 ? " " : "");
    EXPECT_EQ(help.exit_code, 0) << command[0] << " " << help.output;
    EXPECT_EQ(help.output.rfind("usage:\n", 0), 0u) << help.output;
    EXPECT_NE(help.output.find(named), std::string::npos) << help.output;
    if (command.size() > 1) {
      EXPECT_NE(help.output.find(command[1]), std::string::npos) << help.output;
    }
    if (command[0] != "store") {
      EXPECT_EQ(help.output.find("stationctl store "), std::string::npos) << help.output;
    }
  }
  auto audit = Ctl({"audit", "export", "--help"});
  EXPECT_NE(audit.output.find("--format jsonl|csv|aws-jitr-allowlist|aws-bulk"), std::string::npos) << audit.output;
  EXPECT_EQ(audit.output.find("audit verify"), std::string::npos) << "export's usage alone: " << audit.output;
  auto token = Ctl({"ca", "keygen", "--help"});
  EXPECT_NE(token.output.find("TOKEN is --config"), std::string::npos) << token.output;
  EXPECT_EQ(token.output.find("ca csr"), std::string::npos) << token.output;

  auto wrong = Ctl({"audit", "verify", "--config", "x.conf", "--colour", "red"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("USAGE"), std::string::npos) << wrong.output;
  EXPECT_NE(wrong.output.find("stationctl audit verify --config"), std::string::npos) << wrong.output;
  for (const std::string program : {"station-server", "station-line"}) {
    auto help = RunCommand({ProgramPath(program), "--help"});
    EXPECT_EQ(help.exit_code, 0) << program << help.output;
    EXPECT_NE(help.output.find("usage: " + program), std::string::npos) << help.output;
    auto bad = RunCommand({ProgramPath(program), "--colour", "red"});
    EXPECT_EQ(bad.exit_code, 2) << program << bad.output;
  }
}

TEST_F(CliTest, PinsAreNeverTakenOnTheCommandLine) {
  auto r = Ctl({"ca", "init", "--module", "/usr/lib/softhsm/libsofthsm2.so", "--token-uri", "pkcs11:token=x",
                "--pin", "1234", "--subject", "CN=x", "--csr", "/dev/null"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("never taken on the command line"), std::string::npos) << r.output;
  auto uri = Ctl({"ca", "init", "--module", "/usr/lib/softhsm/libsofthsm2.so", "--token-uri",
                  "pkcs11:token=x?pin-value=1234", "--pin-file", "/nonexistent", "--subject", "CN=x", "--csr", "/dev/null"});
  EXPECT_NE(uri.exit_code, 0);
}

TEST_F(CliTest, ServerRefusesAPinFileOthersCanRead) {
  DevSetup();
  ASSERT_EQ(chmod((Dir() + "/secrets/user.pin").c_str(), 0644), 0);
  auto r = RunCommand(ServerCommand({"--config", Dir() + "/station.conf"}), 30);
  EXPECT_EQ(r.exit_code, 78) << r.output;  // EX_CONFIG: a restart cannot cure it
  EXPECT_NE(r.output.find("PIN_UNAVAILABLE"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("chmod 600"), std::string::npos) << r.output;
}

TEST_F(CliTest, ServerExplainsABadConfig) {
  ASSERT_TRUE(base::WriteFile(tmp_.path() + "/bad.conf", "state_dir = \"s\"\n[token]\nuri = 3\n").ok());
  auto r = RunCommand(ServerCommand({"--config", tmp_.path() + "/bad.conf"}), 30);
  EXPECT_EQ(r.exit_code, 78) << r.output;
  EXPECT_NE(r.output.find("token.uri"), std::string::npos) << r.output;
  auto usage = RunCommand({ProgramPath("station-server")}, 30);
  EXPECT_EQ(usage.exit_code, 2);
}

// Under journald (stderr is the stream JOURNAL_STREAM names) every line of
// the server carries its syslog priority and no timestamp of its own.
TEST_F(CliTest, UnderJournaldEachLineCarriesItsPriority) {
  DevSetup();
  const std::string log = tmp_.path() + "/journal";
  std::string server;
  for (const std::string& arg : ServerCommand({"--config", Dir() + "/station.conf"})) server += " '" + arg + "'";
  auto run = RunCommand({"/bin/bash", "-c",
                         ": > " + log + "; export JOURNAL_STREAM=$(stat -c %d:%i " + log + ");" + server + " 2>>" +
                             log + " & pid=$!; for i in $(seq 100); do grep -q 'listening on' " + log +
                             " && break; sleep 0.1; done; kill -TERM $pid; wait $pid"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto bad = RunCommand({"/bin/bash", "-c",
                         "export JOURNAL_STREAM=$(stat -c %d:%i " + log + "); '" + ProgramPath("station-server") +
                             "' --config /nonexistent.conf 2>>" + log});
  EXPECT_EQ(bad.exit_code, 78);
  auto text = base::ReadFile(log);
  ASSERT_TRUE(text.ok());
  std::istringstream lines(*text);
  int info = 0, error = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("listening on ", 0) == 0) continue;  // the readiness line scripts wait for
    EXPECT_TRUE(line.size() > 3 && line[0] == '<' && line[2] == '>') << line;
    info += line.rfind("<6>INFO ", 0) == 0;
    error += line.rfind("<3>ERROR station-server: ", 0) == 0;
  }
  EXPECT_GT(info, 0) << *text;
  EXPECT_EQ(error, 1) << *text;
}

// Under systemd (Type=notify): READY=1 once it listens, STATUS= with its
// counts, STOPPING=1 at SIGTERM; a SIGHUP changes nothing and kills nothing.
TEST_F(CliTest, UnderSystemdTheServerSaysReadyAndStoppingAndOutlivesSighup) {
  DevSetup();
  const std::string socket_path = tmp_.path() + "/notify";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval wait{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  auto next = [&] {
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  };
  std::vector<std::string> argv = {"/usr/bin/env", "NOTIFY_SOCKET=" + socket_path};
  for (const std::string& arg : ServerCommand({"--config", Dir() + "/station.conf"})) argv.push_back(arg);
  testing::Background server(argv);
  StartServer(server);
  const std::string ready = next();
  EXPECT_EQ(ready.rfind("READY=1\nSTATUS=issued 0, replayed 0, refused 0; audit log at seq ", 0), 0u) << ready;
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  EXPECT_NE(next().find("STATUS=issued 0"), std::string::npos);  // alive after it
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
  EXPECT_NE(server.log().find("SIGHUP ignored"), std::string::npos) << server.log();
  std::string stopping;
  for (std::string message = next(); !message.empty() && stopping.empty(); message = next())
    if (message.rfind("STOPPING=1", 0) == 0) stopping = message;
  EXPECT_FALSE(stopping.empty());
  ::close(fd);
}

TEST_F(CliTest, OfficerWritesProfilesImportsALotAndMintsCodes) {
  DevSetup();
  // profile check: the shipped files pass; a broken one names file and field.
  auto check = Ctl({"profile", "check", Dir() + "/profiles/matter-dac.toml", Dir() + "/profiles/fleet-claim.toml"});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("ok  matter-dac"), std::string::npos) << check.output;
  ASSERT_TRUE(base::WriteFile(tmp_.path() + "/broken.toml", "lines = [\"*\"]\n[validity]\nduration = \"1 week\"\n").ok());
  auto broken = Ctl({"profile", "check", tmp_.path() + "/broken.toml"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.output.find("broken.toml: validity.duration"), std::string::npos) << broken.output;

  // A lot of 40 devices, imported by an officer through the running station,
  // then a line provisioning exactly those as Matter DACs.
  std::string csv = "device_id,note\n";
  for (int i = 0; i < 40; ++i) csv += "lot7-" + std::string(6 - std::to_string(i).size(), '0') + std::to_string(i) + ",x\n";
  ASSERT_TRUE(base::WriteFile(tmp_.path() + "/lot7.csv", csv).ok());
  // With [officers] the database is not changed behind the audit log's back.
  auto offline = Ctl({"lot", "import", "--config", Dir() + "/station.conf", "--profile", "matter-dac", tmp_.path() + "/lot7.csv"});
  EXPECT_EQ(offline.exit_code, 1);
  EXPECT_NE(offline.output.find("OFFICER_SERVICE_REQUIRED"), std::string::npos) << offline.output;

  testing::Background server(ServerCommand({"--config", Dir() + "/station.conf"}));
  std::string address = StartServer(server);
  auto officer = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 2, {"--config", Dir() + "/officer.conf", "--target", address});
    return Ctl(args);
  };
  auto wrong = officer({"lot", "import", "--profile", "aws-iot-device", tmp_.path() + "/lot7.csv"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("PROFILE_MISMATCH"), std::string::npos) << wrong.output;
  auto import = officer({"lot", "import", "--profile", "matter-dac", tmp_.path() + "/lot7.csv"});
  ASSERT_EQ(import.exit_code, 0) << import.output;
  EXPECT_NE(import.output.find("lot 'lot7': 40 devices"), std::string::npos) << import.output;
  EXPECT_NE(import.output.find("audit record"), std::string::npos) << import.output;
  auto twice = officer({"lot", "import", "--profile", "matter-dac", tmp_.path() + "/lot7.csv"});
  EXPECT_NE(twice.output.find("LOT_EXISTS"), std::string::npos) << twice.output;

  auto simulate = [&](const std::string& devices) {
    return RunCommand({ProgramPath("station-line"), "--config", Dir() + "/line.conf", "--target", address, "simulate",
                       "--devices", devices, "--streams", "2", "--profile", "matter-dac", "--device-prefix", "lot7",
                       "--attributes", "vendor_id=FFF1,product_id=8000", "--json"});
  };
  auto run = simulate("40");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"issued\":40"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"verified\":40"), std::string::npos) << run.output;
  // Devices beyond the lot, and the lot's devices again: all refused.
  auto beyond = simulate("45");
  EXPECT_EQ(beyond.exit_code, 3) << beyond.output;
  EXPECT_NE(beyond.output.find("\"DEVICE_NOT_AUTHORIZED\":5"), std::string::npos) << beyond.output;
  EXPECT_NE(beyond.output.find("\"DUPLICATE_DEVICE\":40"), std::string::npos) << beyond.output;
  auto lots = officer({"lot", "list"});
  EXPECT_NE(lots.output.find("lot7"), std::string::npos) << lots.output;
  EXPECT_NE(lots.output.find("open"), std::string::npos) << lots.output;
  EXPECT_NE(lots.output.find("40        40"), std::string::npos) << lots.output;  // devices, issued
  // A line cannot reach the registry.
  auto as_line = Ctl({"lot", "list", "--config", Dir() + "/line.conf", "--target", address});
  EXPECT_NE(as_line.output.find("ROLE_NOT_ALLOWED"), std::string::npos) << as_line.output;

  // Codes: written 0600, never overwritten.
  std::string codes = tmp_.path() + "/codes.csv";
  auto mint = officer({"codes", "mint", "--profile", "fleet-claim", "--count", "3", "--ttl", "5m", "--out", codes});
  ASSERT_EQ(mint.exit_code, 0) << mint.output;
  struct stat st {};
  ASSERT_EQ(stat(codes.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto text = base::ReadFile(codes);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(std::count(text->begin(), text->end(), '\n'), 4) << *text;
  auto again = officer({"codes", "mint", "--profile", "fleet-claim", "--count", "3", "--out", codes});
  EXPECT_NE(again.exit_code, 0);
  auto close = officer({"lot", "close", "--lot", "lot7"});
  EXPECT_EQ(close.exit_code, 0) << close.output;
  EXPECT_NE(officer({"lot", "list"}).output.find("closed"), std::string::npos);

  // Who may use a profile: two officers change it; the line is refused at once.
  auto first = officer({"profile", "set-lines", "--profile", "matter-dac", "--lines", "line-2,line-3"});
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("profile.lines: 1 of 2 approvals"), std::string::npos) << first.output;
  auto second = Ctl({"profile", "set-lines", "--config", Dir() + "/officer-2.conf", "--target", address, "--profile",
                     "matter-dac", "--lines", "line-3,line-2"});  // the same set, in another order
  EXPECT_NE(second.output.find("2 of 2 approvals (officer-1, officer-2), done"), std::string::npos) << second.output;
  auto listed = officer({"profile", "list"});
  EXPECT_NE(listed.output.find("lines line-2,line-3 (set by officers; file says *)"), std::string::npos)
      << listed.output;
  auto not_allowed = simulate("3");
  EXPECT_NE(not_allowed.output.find("\"PROFILE_NOT_ALLOWED\":3"), std::string::npos) << not_allowed.output;
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  auto offline_list = Ctl({"profile", "list", "--config", Dir() + "/station.conf"});
  EXPECT_NE(offline_list.output.find("matter-dac: "), std::string::npos) << offline_list.output;
  EXPECT_NE(offline_list.output.find("lines line-2,line-3]"), std::string::npos) << offline_list.output;

  // Import, mint and close are officer records in the verified log.
  auto verify = Ctl({"audit", "verify", "--config", Dir() + "/station.conf"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("intact: 45 records"), std::string::npos) << verify.output;  // 40 issued + 5 officer
  auto exported = Ctl({"audit", "export", "--config", Dir() + "/station.conf", "--format", "jsonl", "--out",
                       tmp_.path() + "/issued.jsonl"});
  EXPECT_EQ(exported.exit_code, 0) << exported.output;
  auto jsonl = base::ReadFile(tmp_.path() + "/issued.jsonl");
  ASSERT_TRUE(jsonl.ok());
  EXPECT_EQ(std::count(jsonl->begin(), jsonl->end(), '\n'), 40);  // certificates only
}

}  // namespace
}  // namespace station
