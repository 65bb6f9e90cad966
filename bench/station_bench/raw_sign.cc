#include "bench/station_bench/raw_sign.h"

#include <openssl/rand.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "station/config/config.h"
#include "station/pki/certificate_der.h"
#include "station/runtime/station.h"

namespace station::bench {

std::string RawResult::Json() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"threads\":%zu,\"sessions\":%zu,\"signatures\":%llu,\"seconds\":%.3f,\"per_second\":%.1f,"
                "\"cpu_seconds\":%.3f}",
                threads, sessions, static_cast<unsigned long long>(signatures), seconds, per_second, cpu_seconds);
  return buf;
}

Result<RawResult> ParseRawResult(const std::string& json_line) {
  RawResult r;
  unsigned long long signatures = 0;
  if (std::sscanf(json_line.c_str(),
                  "{\"threads\":%zu,\"sessions\":%zu,\"signatures\":%llu,\"seconds\":%lf,\"per_second\":%lf,"
                  "\"cpu_seconds\":%lf}",
                  &r.threads, &r.sessions, &signatures, &r.seconds, &r.per_second, &r.cpu_seconds) != 6)
    return MakeError(Code::kInternal, "BENCH_RAW_FAILED", "station-bench raw printed: " + json_line);
  r.signatures = signatures;
  return r;
}

namespace {

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

Result<RawResult> MeasureRawSign(const std::string& station_conf, size_t threads, size_t sessions, double seconds) {
  ST_ASSIGN_OR_RETURN(config::StationConfig config, config::LoadStationConfig(station_conf));
  ST_ASSIGN_OR_RETURN(auto key, runtime::OpenTokenKey(config.token, config.ca.key_uri, sessions));
  // What the station hands C_Sign for one certificate (CertificateAuthority::Sign).
  const bool rsa = !hsm::IsEc(key->algorithm());
  const CK_MECHANISM_TYPE mechanism = rsa ? CKM_RSA_PKCS : CKM_ECDSA;
  Bytes tbs(400);
  RAND_bytes(tbs.data(), static_cast<int>(tbs.size()));
  ST_ASSIGN_OR_RETURN(const Bytes input, pki::SignInput(rsa, key->digest(), tbs));
  // One first, so the measurement starts with the token logged in.
  if (auto warm = key->SignRaw(mechanism, input.data(), input.size()); !warm.ok()) return warm.error();
  std::atomic<uint64_t> count{0};
  std::atomic<bool> stop{false}, failed{false};
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = ProcessCpuSeconds();
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        if (!key->SignRaw(mechanism, input.data(), input.size()).ok()) {
          failed = true;
          return;
        }
        count.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  RawResult r;
  r.threads = threads;
  r.sessions = sessions;
  r.signatures = count;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.per_second = static_cast<double>(r.signatures) / r.seconds;
  r.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  if (failed) return MakeError(Code::kInternal, "BENCH_RAW_FAILED", "a C_Sign failed during the raw measurement");
  return r;
}

}  // namespace station::bench
