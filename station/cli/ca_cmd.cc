// stationctl ca: the key ceremony. Every command works on the token directly
// (no server needed): keygen, csr, self-sign, init (keygen + one of those),
// import-cert, restrict.
#include <cstdio>

#include "station/base/files.h"
#include "station/cli/commands.h"
#include "station/cli/token_args.h"
#include "station/config/config.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/runtime/station.h"
#include "station/setup/ca_init.h"

namespace station::cli {
namespace {

void PrintKey(const setup::CaKey& key, const hsm::Token& token, const char* verb) {
  std::printf("%s %s key '%s' inside token '%s'\nkey URI: %s\nread back: %s\n", verb,
              hsm::KeyAlgorithmName(key.key->algorithm()), key.key->label().c_str(), token.label().c_str(),
              key.key_uri.c_str(), hsm::DescribeKeyAttributes(key.attributes).c_str());
}

Result<setup::CaCertRequest> CertRequestFromArgs(const base::Args& args) {
  setup::CaCertRequest request;
  ST_ASSIGN_OR_RETURN(request.subject, args.Require("subject"));
  ST_ASSIGN_OR_RETURN(long days, args.Number("validity-days", request.validity_days, 1, 36500));
  ST_ASSIGN_OR_RETURN(long path_len, args.Number("path-len", request.path_len, 0, 8));
  request.validity_days = static_cast<int>(days);
  request.path_len = static_cast<int>(path_len);
  return request;
}

Status WriteOut(const std::string& path, const std::string& pem, const char* what) {
  ST_RETURN_IF_ERROR(base::WriteFile(path, pem, 0644));
  std::printf("%s written to %s\n", what, path.c_str());
  return {};
}

Status Keygen(const base::Args& args) {
  ST_ASSIGN_OR_RETURN(auto alg, setup::ParseCaKeyAlgorithm(args.Get("algo", "ec-p256")));
  ST_ASSIGN_OR_RETURN(std::string label, args.Require("label"));
  ST_ASSIGN_OR_RETURN(auto token, OpenTokenFromArgs(args));
  ST_ASSIGN_OR_RETURN(auto key, setup::GenerateCaKey(token, alg, label));
  PrintKey(key, *token, "generated");
  std::printf("next: stationctl ca csr ... --label %s --subject DN --out %s.csr (for your offline root)\n"
              "   or stationctl ca self-sign ... --label %s --subject DN --out %s.pem (a lab root)\n",
              label.c_str(), label.c_str(), label.c_str(), label.c_str());
  return {};
}

Status Csr(const base::Args& args) {
  ST_ASSIGN_OR_RETURN(std::string label, args.Require("label"));
  ST_ASSIGN_OR_RETURN(std::string subject, args.Require("subject"));
  ST_ASSIGN_OR_RETURN(std::string out, args.Require("out"));
  ST_ASSIGN_OR_RETURN(auto token, OpenTokenFromArgs(args));
  ST_ASSIGN_OR_RETURN(auto key, setup::OpenCaKey(token, label));
  ST_ASSIGN_OR_RETURN(std::string pem, setup::MakeCaCsrPem(*key.key, subject));
  PrintKey(key, *token, "signed with");
  ST_RETURN_IF_ERROR(WriteOut(out, pem, "CSR for your root CA"));
  std::printf("when the root has signed it: stationctl ca import-cert --config station.conf --cert SIGNED.pem\n");
  return {};
}

Status SelfSign(const base::Args& args) {
  ST_ASSIGN_OR_RETURN(std::string label, args.Require("label"));
  ST_ASSIGN_OR_RETURN(auto request, CertRequestFromArgs(args));
  ST_ASSIGN_OR_RETURN(std::string out, args.Require("out"));
  ST_ASSIGN_OR_RETURN(auto token, OpenTokenFromArgs(args));
  ST_ASSIGN_OR_RETURN(auto key, setup::OpenCaKey(token, label));
  ST_ASSIGN_OR_RETURN(std::string pem, setup::MakeCaCertPem(*key.key, request));
  PrintKey(key, *token, "signed with");
  return WriteOut(out, pem, "self-signed CA certificate");
}

// keygen + csr or self-sign in one step.
Status Init(const base::Args& args) {
  auto self_signed_out = args.Get("self-signed");
  auto csr_out = args.Get("csr");
  if (self_signed_out.has_value() == csr_out.has_value())
    return base::UsageError("give exactly one of --self-signed OUT.pem or --csr OUT.csr");
  ST_ASSIGN_OR_RETURN(auto alg, setup::ParseCaKeyAlgorithm(args.Get("key", "ec-p256")));
  ST_ASSIGN_OR_RETURN(auto request, CertRequestFromArgs(args));
  std::string label = args.Get("label", "station-ca");
  ST_ASSIGN_OR_RETURN(auto token, OpenTokenFromArgs(args));
  if (self_signed_out) {
    ST_ASSIGN_OR_RETURN(auto made, setup::InitSelfSignedCa(token, alg, label, request));
    PrintKey(made.key, *token, "generated");
    return WriteOut(*self_signed_out, made.cert_pem, "self-signed CA certificate");
  }
  ST_RETURN_IF_ERROR(setup::CheckCaSubject(request.subject));  // before a key is made
  ST_ASSIGN_OR_RETURN(auto key, setup::GenerateCaKey(token, alg, label));
  PrintKey(key, *token, "generated");
  ST_ASSIGN_OR_RETURN(std::string pem, setup::MakeCaCsrPem(*key.key, request.subject));
  ST_RETURN_IF_ERROR(WriteOut(*csr_out, pem, "CSR for your root CA"));
  std::printf("when the root has signed it: stationctl ca import-cert --config station.conf --cert SIGNED.pem\n");
  return {};
}

Status ImportCert(const base::Args& args) {
  ST_ASSIGN_OR_RETURN(std::string config_path, args.Require("config"));
  ST_ASSIGN_OR_RETURN(std::string cert_path, args.Require("cert"));
  ST_ASSIGN_OR_RETURN(auto config, config::LoadStationConfig(config_path));
  ST_ASSIGN_OR_RETURN(std::string pem, base::ReadFile(cert_path));
  ST_ASSIGN_OR_RETURN(auto key, runtime::OpenTokenKey(config.token, config.ca.key_uri, 2));
  ST_RETURN_IF_ERROR(hsm::RequireSigningOnlyKey(*key, "CA key"));
  ST_ASSIGN_OR_RETURN(auto certs, setup::CheckCaCertificate(pem, *key, config.ca.root));
  std::string subject = pki::NameText(X509_get_subject_name(certs.front().get()));
  // AWS IoT finds a device's CA by subject: two CAs with one name confuse it.
  if (auto old = pki::ReadCertsPem(config.ca.certificate); old.ok()) {
    X509* previous = old->front().get();
    if (X509_cmp(previous, certs.front().get()) != 0 &&
        X509_NAME_cmp(X509_get_subject_name(previous), X509_get_subject_name(certs.front().get())) == 0)
      std::printf("warning: the certificate it replaces has the same subject (%s); AWS IoT needs CA subjects "
                  "to be unique per account\n",
                  subject.c_str());
  }
  ST_RETURN_IF_ERROR(base::WriteFile(config.ca.certificate, pem, 0644));
  std::printf("CA certificate '%s' holds token key '%s' and chains to %s; installed as %s\n"
              "restart station-server to use it\n",
              subject.c_str(), key->label().c_str(), config.ca.root.c_str(), config.ca.certificate.c_str());
  return {};
}

// Turns off the usages a key made by an older station (or another tool) may
// still allow; refuses what cannot be repaired.
Status Restrict(const base::Args& args) {
  ST_ASSIGN_OR_RETURN(std::string label, args.Require("label"));
  ST_ASSIGN_OR_RETURN(auto token, OpenTokenFromArgs(args));
  ST_ASSIGN_OR_RETURN(auto key, hsm::TokenKey::Find(token, hsm::PrivateKeyUri("", label)));
  ST_RETURN_IF_ERROR(hsm::RestrictToSigning(*key));
  ST_ASSIGN_OR_RETURN(auto attributes, hsm::ReadKeyAttributes(*key));
  std::printf("key '%s': %s\n", label.c_str(), hsm::DescribeKeyAttributes(attributes).c_str());
  return hsm::CheckSigningOnlyKey(attributes, "key", label);
}

int Report(const Status& status) { return status.ok() ? 0 : Fail(status.error()); }

}  // namespace

int CaCommand(int argc, char** argv) {
  if (argc < 3)
    return Fail(base::UsageError("ca needs a subcommand: keygen, csr, self-sign, init, import-cert, restrict, "
                                 "list, stage, activate or retire"));
  std::string sub = argv[2];
  std::set<std::string> flags = TokenFlags();
  flags.insert({"subject", "key", "algo", "label", "validity-days", "path-len", "self-signed", "csr", "cert", "out",
                "issuer", "ca", "at", "target", "format"});
  auto args = base::Args::Parse(argc, argv, 3, flags);
  if (!args.ok()) return Fail(args.error());
  if (sub == "list" || sub == "stage" || sub == "activate" || sub == "retire") return OfficerCaCommand(sub, *args);
  if (sub == "keygen") return Report(Keygen(*args));
  if (sub == "csr") return Report(Csr(*args));
  if (sub == "self-sign") return Report(SelfSign(*args));
  if (sub == "init") return Report(Init(*args));
  if (sub == "import-cert") return Report(ImportCert(*args));
  if (sub == "restrict") return Report(Restrict(*args));
  return Fail(
      base::UsageError("unknown ca subcommand '" + sub +
                       "' (keygen, csr, self-sign, init, import-cert, restrict, list, stage, activate, retire)"));
}

}  // namespace station::cli
