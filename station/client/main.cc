// station-line: the line controller's client.
//
// --target HOST:PORT overrides the config's target.
//
//   station-line --config line.conf sign CSR_FILE... --out DIR [--profile P] [--device-id ID] [FIELDS]
//   station-line --config line.conf simulate --devices N --streams K [--key ec-p256|ec-p384|rsa-2048]
//                [--window W] [--rate R] [--timeout S] [--device-prefix P] [FIELDS] [--json]
// FIELDS: --attributes K=V,... --thing-name NAME --thing-type TYPE --thing-attributes K=V,...
#include <unistd.h>

#include <cstdio>

#include "station/base/args.h"
#include "station/base/version.h"
#include "station/client/sign_files.h"
#include "station/client/simulate.h"

using namespace station;

namespace {

// The usage, on stdout for --help (exit 0), else on stderr (exit 2).
int Usage(bool asked = false) {
  std::fprintf(asked ? stdout : stderr,
               "usage: station-line --config line.conf sign CSR_FILE... --out DIR [--profile P] [--device-id ID] [FIELDS]\n"
               "       station-line --config line.conf simulate --devices N --streams K [--key ec-p256|ec-p384|rsa-2048]\n"
               "                    [--window W] [--rate PER_SECOND] [--timeout SECONDS] [--profile P] [--device-prefix P] [FIELDS]\n"
               "                    [--out DIR] [--json]\n"
               "       FIELDS: [--attributes K=V,...] [--thing-name NAME] [--thing-type TYPE] [--thing-attributes K=V,...]\n"
               "       (--target HOST:PORT overrides the target in line.conf)\n"
               "       station-line --version\n");
  return asked ? 0 : 2;
}

int Fail(const Error& e) {
  std::fprintf(stderr, "station-line: %s\n", e.ToString().c_str());
  if (e.reason == "USAGE") Usage();
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = base::Args::Parse(argc, argv, 1,
                                  {"config", "target", "out", "profile", "device-id", "devices", "streams", "key", "window",
                                   "rate", "timeout", "device-prefix", "attributes", "thing-name", "thing-type", "thing-attributes"},
                                  {"json", "help", "version"});
  if (!args.ok()) return Fail(args.error());
  if (args->Has("version")) {
    std::printf("%s\n", base::VersionLine("station-line").c_str());
    return 0;
  }
  if (args->Has("help")) return Usage(true);
  if (args->positional().empty() || !args->Has("config")) return Usage();
  auto config = config::LoadLineConfig(*args->Get("config"));
  if (!config.ok()) return Fail(config.error());
  if (auto target = args->Get("target")) config->target = *target;
  const std::string& command = args->positional()[0];
  auto fields = client::RequestFieldsFromArgs(*args);
  if (!fields.ok()) return Fail(fields.error());

  if (command == "sign") {
    client::SignFilesOptions options;
    options.csr_files.assign(args->positional().begin() + 1, args->positional().end());
    options.out_dir = args->Get("out", ".");
    options.profile = args->Get("profile", "");
    options.device_id = args->Get("device-id", "");
    options.fields = *fields;
    auto failed = client::SignFiles(*config, options);
    if (!failed.ok()) return Fail(failed.error());
    return *failed == 0 ? 0 : 1;
  }
  if (command == "simulate") {
    client::SimulateOptions options;
    auto devices = args->Number("devices", 1000, 1, 10'000'000);
    auto streams = args->Number("streams", 4, 1, 256);
    auto window = args->Number("window", 128, 1, 65536);
    auto timeout = args->Number("timeout", 600, 1, 86400);
    auto rate = args->Number("rate", 0, 0, 1'000'000);
    for (const auto* r : {&devices, &streams, &window, &timeout, &rate})
      if (!r->ok()) return Fail(r->error());
    options.devices = static_cast<size_t>(*devices);
    options.streams = static_cast<size_t>(*streams);
    options.window = static_cast<size_t>(*window);
    options.rate = static_cast<size_t>(*rate);
    options.timeout_seconds = static_cast<int>(*timeout);
    options.key = args->Get("key", "ec-p256");
    options.profile = args->Get("profile", "");
    options.progress = !args->Has("json") && isatty(STDERR_FILENO);
    options.out_dir = args->Get("out", "");
    options.device_prefix = args->Get("device-prefix", "");
    options.fields = *fields;
    if (!options.fields.thing_name.empty())
      return Fail(base::UsageError("simulate names each thing after its device id; drop --thing-name"));
    auto summary = client::Simulate(*config, options);
    if (!summary.ok()) return Fail(summary.error());
    if (args->Has("json")) {
      std::printf("%s\n", summary->Json().c_str());
    } else {
      std::printf("%s", summary->Text().c_str());
    }
    if (summary->verify_failures > 0) return 1;
    return summary->failed == 0 ? 0 : 3;
  }
  return Usage();
}
