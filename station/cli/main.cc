// stationctl: the security officer's and operator's tool.
//
//   stationctl dev-setup --dir DIR [--listen HOST:PORT] [--ca-key ec-p256|ec-p384|rsa-2048|rsa-3072]
//   stationctl ca keygen|csr|self-sign|init|import-cert   the key ceremony, on the token
//   stationctl aws verification-cert ...                   AWS IoT CA registration material
//   stationctl audit init-key | verify | prove | check-proof | export
//   stationctl store migrate                               a SQLite log into the shared store
//   stationctl profile check FILE... | profile list | profile set-lines
//   stationctl ca list|stage|activate|retire   a running station's CAs (officer.conf)
//   stationctl lot import|close|list, codes mint, device approve-reissue
#include <cstdio>
#include <cstring>

#include "station/base/version.h"
#include "station/cli/commands.h"

namespace station::cli {

int Fail(const Error& error) {
  std::fprintf(stderr, "stationctl: %s\n", error.ToString().c_str());
  return error.reason == "USAGE" ? 2 : 1;
}

}  // namespace station::cli

int main(int argc, char** argv) {
  const char* usage =
      "usage: stationctl dev-setup --dir DIR [--listen HOST:PORT] [--ca-key ec-p256|ec-p384|rsa-2048|rsa-3072]\n"
      "  TOKEN is --config station.conf, or --module PATH --token-uri URI (--pin-file FILE | --pin-env VAR)\n"
      "       stationctl ca keygen TOKEN --algo ec-p256|ec-p384|rsa-3072|rsa-4096 --label L\n"
      "       stationctl ca csr TOKEN --label L --subject DN --out L.csr\n"
      "       stationctl ca self-sign TOKEN --label L --subject DN [--validity-days 3650] [--path-len 0] --out L.pem\n"
      "       stationctl ca init TOKEN --subject DN [--key ec-p256] [--label station-ca] (--self-signed OUT.pem | --csr OUT.csr)\n"
      "       stationctl ca import-cert --config station.conf --cert FILE\n"
      "       stationctl ca restrict TOKEN --label L   (turn off decrypt/unwrap/derive on an older key)\n"
      "       stationctl aws verification-cert TOKEN --ca LABEL [--ca-cert FILE | --profile P] --registration-code CODE\n"
      "                  --out DIR\n"
      "       stationctl aws claim-setup --config station.conf --registration-code CODE --region R --account-id ID\n"
      "                  --template-name T --device-policy-name P [--claim-policy-name P] [--role-arn ARN]\n"
      "                  [--profile fleet-claim] --out DIR\n"
      "       stationctl audit init-key --config station.conf [--algo ec-p256|ed25519] [--origin NAME]\n"
      "                  [--label station-audit] [--public-key OUT.pem]\n"
      "       stationctl audit verify --config station.conf\n"
      "       stationctl audit prove --config station.conf --serial HEX [--out PROOF]\n"
      "       stationctl audit check-proof --public-key AUDIT-KEY.pem [--serial HEX] PROOF\n"
      "       stationctl audit export --config station.conf\n"
      "                  --format jsonl|csv|aws-jitr-allowlist|aws-bulk|aws-provisioning-allowlist [--profile P,...]\n"
      "                  [--since-seq N] [--checkpoint SIZE] [--out FILE|DIR] [--policy-name NAME] [--ca-cert FILE]\n"
      "       stationctl store migrate --from-sqlite STATE_DIR (--config station.conf | --to URL --station-id ID\n"
      "                  [--password-file FILE] --public-key AUDIT-KEY.pem --origin ORIGIN)\n"
      "       stationctl profile check PROFILE.toml...\n"
      "       stationctl profile list --config station.conf|officer.conf\n"
      "  OFFICER is --config officer.conf [--target HOST:PORT]: a running station's Officer service\n"
      "       stationctl ca list|stage|activate|retire OFFICER [--issuer NAME] [--ca LABEL|KEYID] [--label L --cert FILE]\n"
      "                  [--at 2027-01-01T06:00:00Z]\n"
      "       stationctl profile set-lines OFFICER --profile P --lines LINE,...|'*'\n"
      "       stationctl lot import OFFICER --profile P [--lot NAME] DEVICES.csv\n"
      "       stationctl lot close OFFICER --lot NAME\n"
      "       stationctl lot list OFFICER\n"
      "       stationctl codes mint OFFICER --profile P --count N [--ttl 5m] --out CODES.csv\n"
      "       stationctl device approve-reissue OFFICER --profile P --device-id ID [--ttl 24h]\n"
      "  (lot, codes and device approve-reissue also take --config station.conf on a station without [officers])\n"
      "       stationctl --version\n";
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("%s\n", station::base::VersionLine("stationctl").c_str());
    return 0;
  }
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  if (command == "dev-setup") return station::cli::DevSetupCommand(argc, argv);
  if (command == "ca") return station::cli::CaCommand(argc, argv);
  if (command == "aws") return station::cli::AwsCommand(argc, argv);
  if (command == "audit") return station::cli::AuditCommand(argc, argv);
  if (command == "store") return station::cli::StoreCommand(argc, argv);
  if (command == "profile") return station::cli::ProfileCommand(argc, argv);
  if (command == "lot" || command == "codes" || command == "device") return station::cli::RegistryCommand(argc, argv);
  std::fprintf(stderr, "stationctl: unknown command '%s'\n%s", command.c_str(), usage);
  return 2;
}
