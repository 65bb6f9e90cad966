#include "station/client/simulate.h"

#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <thread>
#include <vector>

#include "station/base/files.h"
#include "station/client/channel.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/v1/station.grpc.pb.h"

namespace station::client {
namespace {

using Clock = std::chrono::steady_clock;

struct Device {
  EvpPkeyPtr key;
  std::string csr_der;
  std::string request_id;
  std::string device_id;
  Clock::time_point sent;
  double latency_ms = -1;
  std::string certificate_der;
  size_t chain = 0;     // index into Chains of the chain it came with
  std::string failure;  // reason when refused
};

Status MakeDevices(std::vector<Device>& devices, const std::string& key_type, const std::string& run_id,
                   const std::string& device_prefix) {
  size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  std::optional<Error> error;
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < devices.size();) {
        Device& d = devices[i];
        d.request_id = "sim-" + run_id + "-" + std::to_string(i);
        char name[64];
        if (device_prefix.empty()) {
          std::snprintf(name, sizeof name, "dev-%s-%06zu", run_id.c_str(), i);
        } else {
          std::snprintf(name, sizeof name, "%.40s-%06zu", device_prefix.c_str(), i);
        }
        d.device_id = name;
        auto key = pki::GenerateSoftwareKey(key_type);
        Result<X509ReqPtr> csr = key.ok() ? pki::MakeCaCsr("CN=" + d.device_id, key->get()) : key.error();
        if (!csr.ok()) {
          std::lock_guard<std::mutex> lock(err_mu);
          error = csr.error();
          return;
        }
        Bytes der = CsrDer(csr->get());
        d.csr_der.assign(der.begin(), der.end());
        d.key = std::move(*key);
      }
    });
  }
  for (auto& t : pool) t.join();
  if (error) return *error;
  return {};
}

// Runs one stream over its share of the devices (every k-th one).
// The distinct chains the station answered with: the profile's CA (which
// GetCaChain's default CA need not be), and after a rotation its successor.
struct Chains {
  std::mutex mu;  // guards index and ders
  std::map<std::string, size_t> index;  // the chain's DERs, concatenated
  std::vector<std::vector<std::string>> ders;

  size_t Add(const google::protobuf::RepeatedPtrField<std::string>& chain) {
    std::string key;
    for (const std::string& der : chain) key += std::to_string(der.size()) + ":" + der;
    std::lock_guard<std::mutex> lock(mu);
    auto [it, added] = index.emplace(key, ders.size());
    if (added) ders.emplace_back(chain.begin(), chain.end());
    return it->second;
  }
};

void RunStream(const config::LineConfig& config, std::vector<Device*> mine, const SimulateOptions& options,
               std::atomic<size_t>& done_count, std::atomic<bool>& transport_failed, std::string& transport_error,
               Chains& chains) {
  auto channel = MakeChannel(config);
  if (!channel.ok()) {
    transport_failed = true;
    transport_error = channel.error().ToString();
    return;
  }
  auto stub = v1::LineSigner::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(options.timeout_seconds));
  auto stream = stub->SignStream(&context);
  std::unordered_map<std::string, Device*> by_id;
  for (Device* d : mine) by_id[d->request_id] = d;

  std::mutex mu;  // guards inflight
  std::condition_variable cv;
  size_t inflight = 0;
  std::thread reader([&] {
    v1::SignResponse response;
    size_t received = 0;
    while (received < mine.size() && stream->Read(&response)) {
      auto it = by_id.find(response.request_id());
      if (it != by_id.end()) {
        Device* d = it->second;
        d->latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - d->sent).count();
        if (response.code() == 0) {
          d->certificate_der = std::move(*response.mutable_certificate_der());
          d->chain = chains.Add(response.chain_der());
        } else {
          d->failure = response.reason().empty() ? "UNKNOWN" : response.reason();
        }
      }
      ++received;
      ++done_count;
      std::lock_guard<std::mutex> lock(mu);
      --inflight;
      cv.notify_one();
    }
  });
  const auto paced_start = Clock::now();
  const double per_stream_rate = static_cast<double>(options.rate) / static_cast<double>(options.streams);
  size_t sent = 0;
  for (Device* d : mine) {
    if (options.rate > 0)
      std::this_thread::sleep_until(paced_start + std::chrono::duration_cast<Clock::duration>(
                                                      std::chrono::duration<double>(sent / per_stream_rate)));
    ++sent;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return inflight < options.window; });
      ++inflight;
    }
    v1::SignRequest request;
    request.set_request_id(d->request_id);
    request.set_csr_der(d->csr_der);
    request.set_device_id(d->device_id);
    request.set_profile(options.profile);
    ApplyRequestFields(options.fields, request);
    d->sent = Clock::now();
    if (!stream->Write(request)) break;
  }
  stream->WritesDone();
  reader.join();
  grpc::Status status = stream->Finish();
  if (!status.ok()) {
    transport_failed = true;
    transport_error = std::string(CodeName(static_cast<Code>(status.error_code()))) + ": " + status.error_message();
  }
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t idx = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(idx, sorted.size() - 1)];
}

// Whether the certificate's authorityKeyIdentifier is the CA's subjectKeyIdentifier.
bool AkiNames(X509* cert, X509* ca) {
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert);
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(ca);
  return aki != nullptr && ski != nullptr && ASN1_OCTET_STRING_cmp(aki, ski) == 0;
}

// Every certificate must chain to the CA it was answered with, name that CA's
// key in its authorityKeyIdentifier, and carry its device's key.
void VerifyAll(std::vector<Device>& devices, const std::vector<std::vector<X509Ptr>>& chains,
               SimulateSummary& summary) {
  std::vector<X509StorePtr> stores;
  for (const auto& chain : chains) {
    stores.emplace_back(X509_STORE_new());
    for (const auto& ca : chain) X509_STORE_add_cert(stores.back().get(), ca.get());
    // The issuing CA may be an intermediate whose root the station does not hold.
    X509_STORE_set_flags(stores.back().get(), X509_V_FLAG_PARTIAL_CHAIN);
  }
  std::atomic<size_t> next{0}, verified{0}, bad{0};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < devices.size();) {
        Device& d = devices[i];
        if (d.certificate_der.empty()) continue;
        auto cert = pki::ParseCertDer(d.certificate_der);
        X509StoreCtxPtr ctx(X509_STORE_CTX_new());
        bool ok = cert.ok() && ctx && d.chain < chains.size() && !chains[d.chain].empty() &&
                  X509_STORE_CTX_init(ctx.get(), stores[d.chain].get(), cert->get(), nullptr) == 1 &&
                  X509_verify_cert(ctx.get()) == 1 &&
                  AkiNames(cert->get(), chains[d.chain].front().get()) &&
                  EVP_PKEY_eq(X509_get0_pubkey(cert->get()), d.key.get()) == 1;
        (ok ? verified : bad)++;
      }
    });
  }
  for (auto& t : pool) t.join();
  summary.verified = verified;
  summary.verify_failures = bad;
  for (const Device& d : devices) {
    if (d.certificate_der.empty() || d.chain >= chains.size() || chains[d.chain].empty()) continue;
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(chains[d.chain].front().get());
    ++summary.by_issuer_key_id[ski ? Hex(ASN1_STRING_get0_data(ski), static_cast<size_t>(ASN1_STRING_length(ski)))
                                   : "none"];
  }
}

Status WriteCertificates(const std::vector<Device>& devices, const std::vector<std::vector<X509Ptr>>& chains,
                         const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  std::string chain_pem;  // every chain answered (two across a CA rotation)
  for (const auto& chain : chains)
    for (const auto& ca : chain) chain_pem += pki::CertPem(ca.get());
  ST_RETURN_IF_ERROR(base::WriteFile(out_dir + "/chain.pem", chain_pem));
  for (const Device& d : devices) {
    if (d.certificate_der.empty()) continue;
    auto cert = pki::ParseCertDer(d.certificate_der);
    if (cert.ok()) ST_RETURN_IF_ERROR(base::WriteFile(out_dir + "/" + d.device_id + ".pem", pki::CertPem(cert->get())));
  }
  return {};
}

}  // namespace

Result<SimulateSummary> Simulate(const config::LineConfig& config, const SimulateOptions& options) {
  if (options.devices == 0 || options.streams == 0 || options.window == 0)
    return MakeError(Code::kInvalidArgument, "USAGE", "--devices, --streams and the window must be positive");
  // The station's chain, to verify against.
  ST_ASSIGN_OR_RETURN(auto channel, MakeChannel(config));
  auto stub = v1::LineSigner::NewStub(channel);
  v1::GetCaChainResponse chain_response;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(config.deadline_seconds));
    grpc::Status status = stub->GetCaChain(&context, v1::GetCaChainRequest(), &chain_response);
    if (!status.ok())
      return MakeError(Code::kUnavailable, "STATION_UNREACHABLE",
                       "GetCaChain at " + config.target + " failed: " + status.error_message());
  }
  std::vector<X509Ptr> chain;
  for (const auto& der : chain_response.chain_der()) {
    auto ca = pki::ParseCertDer(der);
    if (!ca.ok()) return MakeError(Code::kInternal, "BAD_CHAIN", "the station returned an unreadable CA certificate");
    chain.push_back(std::move(*ca));
  }

  std::vector<Device> devices(options.devices);
  Bytes run(4);
  RAND_bytes(run.data(), static_cast<int>(run.size()));
  ST_RETURN_IF_ERROR(MakeDevices(devices, options.key, Hex(run), options.device_prefix));

  std::atomic<size_t> done_count{0};
  std::atomic<bool> transport_failed{false};
  Chains answered;
  std::vector<std::string> transport_errors(options.streams);
  std::vector<std::thread> streams;
  auto start = Clock::now();
  for (size_t k = 0; k < options.streams; ++k) {
    std::vector<Device*> mine;
    for (size_t i = k; i < devices.size(); i += options.streams) mine.push_back(&devices[i]);
    streams.emplace_back([&, k, mine = std::move(mine)]() mutable {
      RunStream(config, std::move(mine), options, done_count, transport_failed, transport_errors[k], answered);
    });
  }
  std::atomic<bool> finished{false};
  std::thread progress;
  if (options.progress) {
    progress = std::thread([&] {
      while (!finished) {
        size_t n = done_count;
        double secs = std::chrono::duration<double>(Clock::now() - start).count();
        int filled = static_cast<int>(40.0 * static_cast<double>(n) / static_cast<double>(devices.size()));
        std::fprintf(stderr, "\r[%-40s] %zu/%zu  %.0f certs/s ", std::string(filled, '#').c_str(), n, devices.size(),
                     secs > 0 ? static_cast<double>(n) / secs : 0.0);
        std::fflush(stderr);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      std::fprintf(stderr, "\n");
    });
  }
  for (auto& t : streams) t.join();
  auto end = Clock::now();
  finished = true;
  if (progress.joinable()) progress.join();

  SimulateSummary summary;
  summary.devices = devices.size();
  summary.seconds = std::chrono::duration<double>(end - start).count();
  std::vector<double> latencies;
  for (Device& d : devices) {
    if (!d.certificate_der.empty()) {
      ++summary.issued;
      latencies.push_back(d.latency_ms);
    } else {
      ++summary.failed;
      ++summary.failed_by_reason[d.failure.empty() ? "NO_ANSWER" : d.failure];
    }
  }
  std::sort(latencies.begin(), latencies.end());
  summary.p50_ms = Percentile(latencies, 0.50);
  summary.p99_ms = Percentile(latencies, 0.99);
  summary.p999_ms = Percentile(latencies, 0.999);
  summary.max_ms = latencies.empty() ? 0 : latencies.back();
  summary.certs_per_second = summary.seconds > 0 ? static_cast<double>(summary.issued) / summary.seconds : 0;
  std::vector<std::vector<X509Ptr>> chains;
  for (const auto& ders : answered.ders) {
    chains.emplace_back();
    for (const auto& der : ders) {
      auto ca = pki::ParseCertDer(der);
      if (!ca.ok()) return MakeError(Code::kInternal, "BAD_CHAIN", "the station answered an unreadable chain");
      chains.back().push_back(std::move(*ca));
    }
  }
  if (chains.empty()) chains.push_back(std::move(chain));  // nothing issued: GetCaChain's, for chain.pem
  VerifyAll(devices, chains, summary);
  if (!options.out_dir.empty()) ST_RETURN_IF_ERROR(WriteCertificates(devices, chains, options.out_dir));
  if (transport_failed) {
    for (const auto& e : transport_errors)
      if (!e.empty()) std::fprintf(stderr, "stream error: %s\n", e.c_str());
  }
  return summary;
}

std::string SimulateSummary::Text() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "devices      %zu\nissued       %zu\nfailed       %zu\nverified     %zu (chain and device key checked)\n"
                "verify fails %zu\nelapsed      %.2f s\ncerts/s      %.1f\n"
                "latency      p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms\n",
                devices, issued, failed, verified, verify_failures, seconds, certs_per_second, p50_ms, p99_ms, p999_ms,
                max_ms);
  std::string out = buf;
  for (const auto& [reason, n] : failed_by_reason) out += "  failed " + reason + ": " + std::to_string(n) + "\n";
  return out;
}

std::string SimulateSummary::Json() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"devices\":%zu,\"issued\":%zu,\"failed\":%zu,\"verified\":%zu,\"verify_failures\":%zu,"
                "\"seconds\":%.3f,\"certs_per_second\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"p999_ms\":%.2f,"
                "\"max_ms\":%.2f,\"failed_by_reason\":{",
                devices, issued, failed, verified, verify_failures, seconds, certs_per_second, p50_ms, p99_ms, p999_ms,
                max_ms);
  std::string out = buf;
  bool first = true;
  for (const auto& [reason, n] : failed_by_reason) {
    out += (first ? "\"" : ",\"") + reason + "\":" + std::to_string(n);
    first = false;
  }
  out += "},\"by_issuer_key_id\":{";
  first = true;
  for (const auto& [key_id, n] : by_issuer_key_id) {
    out += (first ? "\"" : ",\"") + key_id + "\":" + std::to_string(n);
    first = false;
  }
  return out + "}}";
}

}  // namespace station::client
