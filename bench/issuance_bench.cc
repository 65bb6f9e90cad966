// Micro-benchmarks of one issuance's stages, on a throwaway SoftHSM token:
//   issuance_bench --benchmark_format=json
// CSR check (parse + proof of possession), certificate build, token signature,
// and the whole CSR-to-signed-certificate path, single-threaded and across threads.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "station/issuance/csr.h"
#include "station/issuance/certificate_profile.h"
#include "station/policy/profile_file.h"
#include "station/pki/cert_builder.h"
#include "station/runtime/station.h"
#include "station/setup/dev_setup.h"

namespace {

using namespace station;

struct Fixture {
  std::string dir;
  std::shared_ptr<issuance::CertificateAuthority> ca;
  std::unique_ptr<issuance::CertificateProfile> profile;
  Bytes csr;

  Fixture() {
    char tmpl[] = "/tmp/station-bench-XXXXXX";
    dir = mkdtemp(tmpl);
    setup::DevSetupOptions options;
    options.dir = dir;
    options.listen = "127.0.0.1:0";
    options.ca_key = std::getenv("BENCH_CA_KEY") ? std::getenv("BENCH_CA_KEY") : "ec-p256";
    options.module = SOFTHSM_MODULE;
    auto made = setup::DevSetup(options);
    if (!made.ok()) std::abort();
    auto config = config::LoadStationConfig(made->station_conf);
    auto key = runtime::OpenTokenKey(config->token, config->ca.key_uri, 32);
    if (!key.ok()) std::abort();
    ca = *issuance::CertificateAuthority::Load(*key, config->ca.certificate);
    profile = std::move(issuance::CertificateProfile::Create(policy::ProfileDefaults(),
                                                                   std::make_shared<issuance::Issuer>("bench", ca)).value());
    auto device = pki::GenerateSoftwareKey("ec-p256");
    auto req = pki::MakeCaCsr("CN=bench-device", device->get());
    csr = CsrDer(req->get());
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

// The request fields a profile template reads, for a device "device-1".
const policy::TemplateInput& Input() {
  static const std::string device_id = "device-1", empty;
  static const std::map<std::string, std::string> none;
  static const policy::TemplateInput input{device_id, device_id, empty, none};
  return input;
}

Fixture& F() {
  static Fixture fixture;
  return fixture;
}

void BM_CheckCsr(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(issuance::CheckCsr(F().csr, 16384));
}
BENCHMARK(BM_CheckCsr);

void BM_BuildCertificate(benchmark::State& state) {
  auto csr = issuance::CheckCsr(F().csr, 16384);
  for (auto _ : state) {
    auto serial = pki::RandomSerial();
    benchmark::DoNotOptimize(F().profile->Build(*csr, Input(), serial->get(), *F().ca));
  }
}
BENCHMARK(BM_BuildCertificate);

void BM_TokenSign(benchmark::State& state) {
  Bytes digest = Sha256(std::string("x"));
  bool ec = hsm::IsEc(F().ca->token_key().algorithm());
  for (auto _ : state) {
    auto sig = F().ca->token_key().SignRaw(ec ? CKM_ECDSA : CKM_SHA256_RSA_PKCS, digest.data(), digest.size());
    if (!sig.ok()) state.SkipWithError(sig.error().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TokenSign)->ThreadRange(1, 8)->UseRealTime();

void BM_CsrToSignedCertificate(benchmark::State& state) {
  for (auto _ : state) {
    auto csr = issuance::CheckCsr(F().csr, 16384);
    auto serial = pki::RandomSerial();
    auto cert = F().profile->Build(*csr, Input(), serial->get(), *F().ca);
    auto der = F().ca->Sign(cert->tbs_der);
    if (!der.ok()) state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(der);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CsrToSignedCertificate)->ThreadRange(1, 8)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
