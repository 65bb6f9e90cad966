#include <cstdio>

#include "station/cli/commands.h"
#include "station/config/config.h"
#include "station/pki/files.h"
#include "station/runtime/station.h"
#include "station/setup/ca_init.h"

namespace station::cli {
namespace {

// The token to work on: from --config's [token], or from explicit flags.
Result<config::TokenConfig> TokenFromArgs(const common::Args& args) {
  if (auto path = args.Get("config")) {
    ST_ASSIGN_OR_RETURN(auto station, config::LoadStationConfig(*path));
    return station.token;
  }
  config::TokenConfig token;
  token.module = args.Get("module", token.module);
  ST_ASSIGN_OR_RETURN(token.uri, args.Require("token-uri"));
  if (auto file = args.Get("pin-file")) {
    token.pin = {hsm::PinSource::Kind::kFile, *file};
  } else if (auto env = args.Get("pin-env")) {
    token.pin = {hsm::PinSource::Kind::kEnv, *env};
  } else {
    return common::UsageError("name the PIN source: --pin-file FILE (mode 0600) or --pin-env VARIABLE");
  }
  return token;
}

int Init(const common::Args& args) {
  auto token_config = TokenFromArgs(args);
  if (!token_config.ok()) return Fail(token_config.error());
  setup::CaInitRequest request;
  auto subject = args.Require("subject");
  if (!subject.ok()) return Fail(subject.error());
  request.subject = *subject;
  auto alg = hsm::ParseKeyAlgorithm(args.Get("key", "ec-p256"));
  if (!alg.ok()) return Fail(alg.error());
  request.algorithm = *alg;
  request.key_label = args.Get("label", request.key_label);
  auto days = args.Number("validity-days", request.validity_days, 1, 36500);
  if (!days.ok()) return Fail(days.error());
  request.validity_days = static_cast<int>(*days);
  auto self_signed_out = args.Get("self-signed");
  auto csr_out = args.Get("csr");
  if (self_signed_out.has_value() == csr_out.has_value())
    return Fail(common::UsageError("give exactly one of --self-signed OUT.pem or --csr OUT.csr"));
  auto token = runtime::OpenToken(*token_config, 2);
  if (!token.ok()) return Fail(token.error());
  auto result = setup::InitCa(*token, request, self_signed_out.has_value());
  if (!result.ok()) return Fail(result.error());
  const std::string& out = self_signed_out ? *self_signed_out : *csr_out;
  Status written = pki::WriteFile(out, self_signed_out ? result->cert_pem : result->csr_pem, 0644);
  if (!written.ok()) return Fail(written.error());
  std::printf("generated %s key '%s' inside token '%s' (sensitive, not extractable)\n"
              "key URI: %s\n%s written to %s\n",
              hsm::KeyAlgorithmName(request.algorithm), request.key_label.c_str(), (*token)->label().c_str(),
              result->key_uri.c_str(), self_signed_out ? "self-signed CA certificate" : "CSR for your root CA",
              out.c_str());
  if (csr_out)
    std::printf("when the root has signed it: stationctl ca import-cert --config station.conf --cert SIGNED.pem\n");
  return 0;
}

int ImportCert(const common::Args& args) {
  auto config_path = args.Require("config");
  auto cert_path = args.Require("cert");
  if (!config_path.ok()) return Fail(config_path.error());
  if (!cert_path.ok()) return Fail(cert_path.error());
  auto config = config::LoadStationConfig(*config_path);
  if (!config.ok()) return Fail(config.error());
  auto pem = pki::ReadFile(*cert_path);
  if (!pem.ok()) return Fail(pem.error());
  auto key = runtime::OpenTokenKey(config->token, config->ca.key_uri, 2);
  if (!key.ok()) return Fail(key.error());
  if (Status st = setup::CheckCaCertificate(*pem, **key); !st.ok()) return Fail(st.error());
  if (Status st = pki::WriteFile(config->ca.certificate, *pem, 0644); !st.ok()) return Fail(st.error());
  std::printf("CA certificate matches token key '%s'; installed as %s\nrestart station-server to use it\n",
              (*key)->label().c_str(), config->ca.certificate.c_str());
  return 0;
}

}  // namespace

int CaCommand(int argc, char** argv) {
  if (argc < 3) return Fail(common::UsageError("ca needs a subcommand: init or import-cert"));
  std::string sub = argv[2];
  auto args = common::Args::Parse(argc, argv, 3,
                                  {"config", "module", "token-uri", "pin-file", "pin-env", "subject", "key", "label",
                                   "validity-days", "self-signed", "csr", "cert"});
  if (!args.ok()) return Fail(args.error());
  if (sub == "init") return Init(*args);
  if (sub == "import-cert") return ImportCert(*args);
  return Fail(common::UsageError("unknown ca subcommand '" + sub + "' (init, import-cert)"));
}

}  // namespace station::cli
