// The officer's commands against a running station, over the Officer gRPC
// service (mutual TLS with an OU=officer client certificate):
//
//   stationctl ca list     --config officer.conf [--issuer NAME]
//   stationctl ca stage    --config officer.conf --issuer NAME --label KEY --cert CA.pem
//   stationctl ca activate --config officer.conf --ca LABEL|KEYID [--issuer NAME] [--at 2026-12-01T06:00:00Z]
//   stationctl ca retire   --config officer.conf --ca LABEL|KEYID [--issuer NAME]
//   stationctl device approve-reissue --config officer.conf --profile P --device-id ID [--ttl 24h]
//
// officer.conf has the shape of a line.conf (target, [tls] ca/cert/key);
// --target HOST:PORT overrides its target.
#include <cstdio>
#include <ctime>

#include "station/cli/commands.h"
#include "station/client/channel.h"
#include "station/common/duration.h"
#include "station/pki/files.h"
#include "station/v1/station.grpc.pb.h"

namespace station::cli {
namespace {

constexpr int kDeadlineSeconds = 60;  // Retire waits up to 30 s for signatures in flight

Result<std::unique_ptr<v1::Officer::Stub>> Connect(const common::Args& args) {
  ST_ASSIGN_OR_RETURN(std::string path, args.Require("config"));
  ST_ASSIGN_OR_RETURN(config::LineConfig config, config::LoadLineConfig(path));
  if (auto target = args.Get("target")) config.target = *target;
  ST_ASSIGN_OR_RETURN(auto channel, client::MakeChannel(config));
  return v1::Officer::NewStub(channel);
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(kDeadlineSeconds));
  return context;
}

// The RPC status as an Error: our servers put "REASON: message" in it.
Error FromStatus(const grpc::Status& status) {
  std::string text = status.error_message();
  std::string reason = "RPC_FAILED";
  size_t colon = text.find(": ");
  if (colon != std::string::npos && colon > 0 && text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") == colon) {
    reason = text.substr(0, colon);
    text = text.substr(colon + 2);
  }
  return MakeError(static_cast<Code>(status.error_code()), reason, text);
}

std::string TimeOf(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "2026-12-01T06:00:00Z" as Unix milliseconds.
Result<int64_t> ParseTime(const std::string& text) {
  struct tm tm {};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0')
    return common::UsageError("--at wants a UTC time like 2026-12-01T06:00:00Z, not '" + text + "'");
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

void PrintCa(const v1::CaInfo& ca) {
  std::printf("%-10s %-24s %-9s %s  %s  until %s", ca.issuer().c_str(), ca.key_label().c_str(), ca.state().c_str(),
              ca.key_id().c_str(), ca.subject().c_str(), ca.not_after().c_str());
  if (ca.activate_at_unix_ms() != 0) std::printf("  activates %s", TimeOf(ca.activate_at_unix_ms()).c_str());
  std::printf("\n");
}

int PrintApproval(const grpc::Status& status, const v1::ApprovalResponse& reply) {
  if (!status.ok()) return Fail(FromStatus(status));
  std::string approvers;
  for (const std::string& a : reply.approvers()) approvers += (approvers.empty() ? "" : ", ") + a;
  std::printf("%s: %d of %u approvals (%s)%s\n%s\naudit record %llu\n", reply.action().c_str(), reply.approvers_size(),
              reply.required(), approvers.c_str(), reply.executed() ? ", done" : "", reply.message().c_str(),
              static_cast<unsigned long long>(reply.audit_seq()));
  return 0;
}

int List(v1::Officer::Stub& stub, const common::Args& args) {
  v1::ListCasRequest request;
  request.set_issuer(args.Get("issuer", ""));
  v1::ListCasResponse reply;
  grpc::Status status = stub.ListCas(Context().get(), request, &reply);
  if (!status.ok()) return Fail(FromStatus(status));
  for (const v1::CaInfo& ca : reply.cas()) PrintCa(ca);
  return 0;
}

int Stage(v1::Officer::Stub& stub, const common::Args& args) {
  v1::StageCaRequest request;
  auto issuer = args.Require("issuer");
  auto label = args.Require("label");
  auto cert = args.Require("cert");
  if (!issuer.ok()) return Fail(issuer.error());
  if (!label.ok()) return Fail(label.error());
  if (!cert.ok()) return Fail(cert.error());
  auto pem = pki::ReadFile(*cert, 256 * 1024);
  if (!pem.ok()) return Fail(pem.error());
  request.set_issuer(*issuer);
  request.set_key_label(*label);
  request.set_certificate_pem(*pem);
  v1::StageCaResponse reply;
  grpc::Status status = stub.StageCa(Context().get(), request, &reply);
  if (!status.ok()) return Fail(FromStatus(status));
  PrintCa(reply.ca());
  std::printf("staged (audit record %llu); it signs nothing until activated: stationctl ca activate --ca %s\n",
              static_cast<unsigned long long>(reply.audit_seq()), reply.ca().key_label().c_str());
  return 0;
}

int ActivateOrRetire(v1::Officer::Stub& stub, const std::string& sub, const common::Args& args) {
  auto ca = args.Require("ca");
  if (!ca.ok()) return Fail(ca.error());
  v1::ApprovalResponse reply;
  if (sub == "retire") {
    v1::RetireCaRequest request;
    request.set_issuer(args.Get("issuer", ""));
    request.set_ca(*ca);
    return PrintApproval(stub.RetireCa(Context().get(), request, &reply), reply);
  }
  v1::ActivateCaRequest request;
  request.set_issuer(args.Get("issuer", ""));
  request.set_ca(*ca);
  if (auto at = args.Get("at")) {
    auto ms = ParseTime(*at);
    if (!ms.ok()) return Fail(ms.error());
    request.set_at_unix_ms(*ms);
  }
  return PrintApproval(stub.ActivateCa(Context().get(), request, &reply), reply);
}

}  // namespace

bool IsOfficerConfig(const std::string& path) { return config::LoadLineConfig(path).ok(); }

int OfficerCaCommand(const std::string& sub, const common::Args& args) {
  auto stub = Connect(args);
  if (!stub.ok()) return Fail(stub.error());
  if (sub == "list") return List(**stub, args);
  if (sub == "stage") return Stage(**stub, args);
  return ActivateOrRetire(**stub, sub, args);
}

int OfficerApproveReissue(const common::Args& args) {
  auto stub = Connect(args);
  if (!stub.ok()) return Fail(stub.error());
  v1::ApproveReissueRequest request;
  auto profile = args.Require("profile");
  auto device = args.Require("device-id");
  if (!profile.ok()) return Fail(profile.error());
  if (!device.ok()) return Fail(device.error());
  auto ttl = common::ParseDuration(args.Get("ttl", "24h"));
  if (!ttl.ok()) return Fail(ttl.error());
  request.set_profile(*profile);
  request.set_device_id(*device);
  request.set_ttl_seconds(*ttl);
  v1::ApprovalResponse reply;
  return PrintApproval((*stub)->ApproveReissue(Context().get(), request, &reply), reply);
}

}  // namespace station::cli
