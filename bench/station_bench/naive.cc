#include "bench/station_bench/naive.h"

#include <chrono>
#include <filesystem>

#include "station/base/files.h"
#include "station/config/config.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"

namespace station::bench {
namespace {

constexpr const char* kEngine = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so";

}  // namespace

Result<NaiveResult> MeasureNaive(const DevStation& station, size_t count) {
  ST_ASSIGN_OR_RETURN(config::StationConfig config, config::LoadStationConfig(station.station_conf()));
  ST_ASSIGN_OR_RETURN(std::string pin, base::ReadFile(station.dir() + "/secrets/user.pin"));
  while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) pin.pop_back();
  const std::string work = station.dir() + "/naive";
  std::error_code ec;
  std::filesystem::create_directories(work, ec);
  const std::string openssl_conf = work + "/openssl.cnf";
  ST_RETURN_IF_ERROR(base::WriteFile(openssl_conf,
                                    "openssl_conf = init\n[init]\nengines = engines\n[engines]\npkcs11 = pkcs11\n"
                                    "[pkcs11]\nengine_id = pkcs11\ndynamic_path = " + std::string(kEngine) +
                                        "\nMODULE_PATH = " + config.token.module + "\nPIN = " + pin + "\ninit = 0\n",
                                    0600));
  for (size_t i = 0; i < count; ++i) {
    ST_ASSIGN_OR_RETURN(auto key, pki::GenerateSoftwareKey("ec-p256"));
    ST_ASSIGN_OR_RETURN(auto csr, pki::MakeCaCsr("CN=naive-" + std::to_string(i), key.get()));
    ST_RETURN_IF_ERROR(base::WriteFile(work + "/" + std::to_string(i) + ".csr", pki::CsrPem(csr.get())));
  }
  std::vector<std::string> env = {"/usr/bin/env", "OPENSSL_CONF=" + openssl_conf};
  for (const auto& [name, value] : config.token.env) env.push_back(name + "=" + value);
  const std::string ca_cert = config.ca.certificate;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < count; ++i) {
    std::vector<std::string> argv = env;
    const std::string base = work + "/" + std::to_string(i);
    argv.insert(argv.end(), {"openssl", "x509", "-req", "-in", base + ".csr", "-CA", ca_cert, "-CAkeyform", "engine",
                             "-engine", "pkcs11", "-CAkey", config.ca.key_uri, "-days", "365", "-sha256",
                             "-set_serial", std::to_string(1000 + i), "-out", base + ".pem"});
    auto run = testing::RunCommand(argv, 60);
    if (run.exit_code != 0)
      return MakeError(Code::kInternal, "BENCH_NAIVE_FAILED", "openssl x509 -req with the pkcs11 engine: " + run.output);
  }
  NaiveResult r;
  r.certificates = count;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.per_second = static_cast<double>(count) / r.seconds;
  return r;
}

}  // namespace station::bench
