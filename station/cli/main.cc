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
//   stationctl reasons [REASON...]             what a reason means and what to do
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include "station/base/text.h"
#include "station/base/version.h"
#include "station/cli/commands.h"

namespace station::cli {
namespace {

std::string g_command, g_sub;  // what main() dispatches, for the usage Fail shows

const char* const kUsage =
      "usage: stationctl dev-setup --dir DIR [--listen 127.0.0.1:7443] [--ca-key ec-p256|ec-p384|rsa-2048|rsa-3072]\n"
      "                  [--module /usr/lib/softhsm/libsofthsm2.so] [--store URL [--store-password-file F]\n"
      "                  [--station-id ID]] | --join DIR [--station-id ID]\n"
      "  TOKEN is --config station.conf, or --module PATH --token-uri URI (--pin-file FILE | --pin-env VAR)\n"
      "       stationctl ca keygen TOKEN [--algo ec-p256|ec-p384|rsa-2048|rsa-3072|rsa-4096] --label L\n"
      "                  (--algo: ec-p256 by default; rsa-2048 only for verifiers that take nothing else)\n"
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
      "       stationctl audit verify --config station.conf [--station ID --public-key F --origin O\n"
      "                  | --all [--keys DIR]] [--format text|json]\n"
      "       stationctl audit prove --config station.conf --serial HEX [--out PROOF]\n"
      "       stationctl audit check-proof --public-key AUDIT-KEY.pem [--serial HEX] PROOF\n"
      "       stationctl audit export --config station.conf\n"
      "                  --format jsonl|csv|aws-jitr-allowlist|aws-bulk|aws-provisioning-allowlist [--profile P,...]\n"
      "                  [--since-seq N] [--checkpoint SIZE] [--out FILE|DIR] [--policy-name NAME] [--ca-cert FILE]\n"
      "       stationctl store migrate --from-sqlite STATE_DIR (--config station.conf | --to URL --station-id ID\n"
      "                  [--password-file FILE] --public-key AUDIT-KEY.pem --origin ORIGIN)\n"
      "       stationctl profile check PROFILE.toml...\n"
      "       stationctl profile list --config station.conf|officer.conf [--format text|json]\n"
      "  OFFICER is --config officer.conf [--target HOST:PORT]: a running station's Officer service\n"
      "       stationctl ca list|stage|activate|retire OFFICER [--issuer NAME] [--ca LABEL|KEYID] [--label L --cert FILE]\n"
      "                  [--at 2027-01-01T06:00:00Z] [--format text|json (list)]\n"
      "       stationctl profile set-lines OFFICER --profile P --lines LINE,...|'*'\n"
      "       stationctl lot import OFFICER --profile P [--lot NAME] DEVICES.csv\n"
      "       stationctl lot close OFFICER --lot NAME\n"
      "       stationctl lot list OFFICER [--format text|json]\n"
      "       stationctl codes mint OFFICER --profile P --count N [--ttl 5m] --out CODES.csv\n"
      "       stationctl device approve-reissue OFFICER --profile P --device-id ID [--ttl 24h]\n"
      "  (lot, codes and device approve-reissue also take --config station.conf on a station without [officers])\n"
      "       stationctl reasons [REASON...] [--format text|json|markdown]\n"
      "       stationctl --version\n";

// The usage lines of `command` (narrowed to `sub` where a line names it),
// their continuation lines, and what TOKEN or OFFICER means when they use it.
std::string UsageOf(const std::string& command, const std::string& sub) {
  std::vector<std::string> lines;
  std::istringstream in(kUsage);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto pick = [&](bool by_sub) {
    std::string out;
    bool taking = false;
    for (const std::string& line : lines) {
      const size_t at = line.find("stationctl " + command + " ");
      const bool continuation = line.rfind("          ", 0) == 0 && line.find("stationctl ") == std::string::npos;
      if (!continuation) {
        taking = false;
        if (at != std::string::npos) {
          const std::string rest = line.substr(at + 12 + command.size());
          bool named = false;
          for (const std::string& w : SplitList(rest.substr(0, rest.find(' ')), '|')) named = named || w == sub;
          taking = !by_sub || named;
        }
      }
      if (taking) out += line + "\n";
    }
    return out;
  };
  std::string out = sub.empty() || sub[0] == '-' ? pick(false) : pick(true);
  if (out.empty()) out = pick(false);
  if (out.empty()) return kUsage;
  for (const char* term : {"TOKEN", "OFFICER"})
    if (out.find(std::string(" ") + term + " ") != std::string::npos)
      for (const std::string& line : lines)
        if (line.rfind(std::string("  ") + term + " is", 0) == 0) out += line + "\n";
  return "usage:\n" + out;
}

}  // namespace

int Fail(const Error& error) {
  std::fprintf(stderr, "stationctl: %s\n", error.ToString().c_str());
  if (error.reason != "USAGE") return 1;
  if (!g_command.empty()) std::fputs(UsageOf(g_command, g_sub).c_str(), stderr);
  return 2;
}

Result<bool> JsonWanted(const base::Args& args) {
  const std::string format = args.Get("format", "text");
  if (format != "text" && format != "json") return base::UsageError("--format is text or json, not '" + format + "'");
  return format == "json";
}

}  // namespace station::cli

int main(int argc, char** argv) {
  using station::cli::kUsage;
  const char* usage = kUsage;
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("%s\n", station::base::VersionLine("stationctl").c_str());
    return 0;
  }
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  station::cli::g_command = command;
  station::cli::g_sub = argc > 2 ? argv[2] : "";
  // --help (or -h) anywhere: that command's usage, on stdout, exit 0.
  for (int i = 2; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(station::cli::UsageOf(command, i > 2 ? argv[2] : "").c_str(), stdout);
      return 0;
    }
  if (command == "dev-setup") return station::cli::DevSetupCommand(argc, argv);
  if (command == "ca") return station::cli::CaCommand(argc, argv);
  if (command == "aws") return station::cli::AwsCommand(argc, argv);
  if (command == "audit") return station::cli::AuditCommand(argc, argv);
  if (command == "store") return station::cli::StoreCommand(argc, argv);
  if (command == "reasons") return station::cli::ReasonsCommand(argc, argv);
  if (command == "profile") return station::cli::ProfileCommand(argc, argv);
  if (command == "lot" || command == "codes" || command == "device") return station::cli::RegistryCommand(argc, argv);
  std::fprintf(stderr, "stationctl: unknown command '%s'\n%s", command.c_str(), usage);
  return 2;
}
