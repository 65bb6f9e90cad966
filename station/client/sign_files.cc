#include "station/client/sign_files.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstdio>
#include <filesystem>

#include "station/base/files.h"
#include "station/client/channel.h"
#include "station/pki/pem.h"
#include "station/v1/station.grpc.pb.h"

namespace station::client {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxCsrFileBytes = 64 * 1024;

// A CSR file in PEM or DER, as DER.
Result<Bytes> ReadCsrDer(const std::string& path) {
  ST_ASSIGN_OR_RETURN(std::string content, base::ReadFile(path, kMaxCsrFileBytes));
  if (content.find("-----BEGIN") == std::string::npos) return Bytes(content.begin(), content.end());
  BioPtr bio(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return MakeError(Code::kInvalidArgument, "CSR_MALFORMED", path + " holds no PEM certificate request");
  return CsrDer(req.get());
}

std::string DerToPem(const std::string& der) {
  auto cert = pki::ParseCertDer(der);
  return cert.ok() ? pki::CertPem(cert->get()) : std::string();
}

}  // namespace

Result<int> SignFiles(const config::LineConfig& config, const SignFilesOptions& options) {
  if (options.csr_files.empty()) return MakeError(Code::kInvalidArgument, "USAGE", "name at least one CSR file");
  if (!options.device_id.empty() && options.csr_files.size() != 1)
    return MakeError(Code::kInvalidArgument, "USAGE", "--device-id applies to a single CSR");
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  ST_ASSIGN_OR_RETURN(auto channel, MakeChannel(config));
  auto stub = v1::LineSigner::NewStub(channel);
  Bytes nonce(8);
  RAND_bytes(nonce.data(), static_cast<int>(nonce.size()));
  int failed = 0;
  for (const std::string& path : options.csr_files) {
    auto der = ReadCsrDer(path);
    if (!der.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), der.error().ToString().c_str());
      ++failed;
      continue;
    }
    v1::SignRequest request;
    // A request id unique to this run and file: rerunning gives a new certificate.
    request.set_request_id("sign-" + Hex(nonce) + "-" + fs::path(path).filename().string().substr(0, 80));
    request.set_csr_der(der->data(), der->size());
    request.set_profile(options.profile);
    request.set_device_id(options.device_id);
    ApplyRequestFields(options.fields, request);
    v1::SignResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(config.deadline_seconds));
    grpc::Status status = stub->Sign(&context, request, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "%s: station refused the call: %s (%s)\n", path.c_str(),
                   CodeName(static_cast<Code>(status.error_code())), status.error_message().c_str());
      ++failed;
      continue;
    }
    if (response.code() != 0) {
      std::fprintf(stderr, "%s: %s %s: %s\n", path.c_str(), CodeName(static_cast<Code>(response.code())),
                   response.reason().c_str(), response.message().c_str());
      ++failed;
      continue;
    }
    std::string stem = fs::path(options.out_dir) / fs::path(path).stem();
    std::string chain;
    for (const auto& der_ca : response.chain_der()) chain += DerToPem(der_ca);
    ST_RETURN_IF_ERROR(base::WriteFile(stem + ".pem", DerToPem(response.certificate_der())));
    ST_RETURN_IF_ERROR(base::WriteFile(stem + ".chain.pem", chain));
    std::printf("%s -> %s.pem serial %s certificate_id %s audit_seq %llu\n", path.c_str(), stem.c_str(),
                response.serial_hex().c_str(), response.certificate_id().c_str(),
                static_cast<unsigned long long>(response.audit_seq()));
  }
  return failed;
}

}  // namespace station::client
