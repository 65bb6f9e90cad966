// The officer's commands against a running station, over the Officer gRPC
// service (mutual TLS with an OU=officer client certificate):
//
//   stationctl ca list     --config officer.conf [--issuer NAME]
//   stationctl ca stage    --config officer.conf --issuer NAME --label KEY --cert CA.pem
//   stationctl ca activate --config officer.conf --ca LABEL|KEYID [--issuer NAME] [--at 2026-12-01T06:00:00Z]
//   stationctl ca retire   --config officer.conf --ca LABEL|KEYID [--issuer NAME]
//   stationctl device approve-reissue --config officer.conf --profile P --device-id ID [--ttl 24h]
//   stationctl profile list      --config officer.conf
//   stationctl profile set-lines --config officer.conf --profile P --lines line-1,line-2|'*'
//
// officer.conf has the shape of a line.conf (target, [tls] ca/cert/key);
// --target HOST:PORT overrides its target.
#include <cstdio>
#include <ctime>

#include "station/base/duration.h"
#include "station/base/files.h"
#include "station/base/text.h"
#include "station/cli/commands.h"
#include "station/cli/officer_client.h"
#include "station/v1/station.grpc.pb.h"

namespace station::cli {
namespace {

// "2026-12-01T06:00:00Z" as Unix milliseconds.
Result<int64_t> ParseTime(const std::string& text) {
  struct tm tm {};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0')
    return base::UsageError("--at wants a UTC time like 2026-12-01T06:00:00Z, not '" + text + "'");
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

void PrintCa(const v1::CaInfo& ca) {
  std::printf("%-10s %-24s %-9s %s  %s  until %s", ca.issuer().c_str(), ca.key_label().c_str(), ca.state().c_str(),
              ca.key_id().c_str(), ca.subject().c_str(), ca.not_after().c_str());
  if (ca.activate_at_unix_ms() != 0) std::printf("  activates %s", base::UtcText(ca.activate_at_unix_ms()).c_str());
  std::printf("\n");
}

int List(v1::Officer::Stub& stub, const base::Args& args) {
  auto json = JsonWanted(args);
  if (!json.ok()) return Fail(json.error());
  v1::ListCasRequest request;
  request.set_issuer(args.Get("issuer", ""));
  v1::ListCasResponse reply;
  grpc::Status status = stub.ListCas(OfficerContext().get(), request, &reply);
  if (!status.ok()) return Fail(FromStatus(status));
  if (!*json) {
    for (const v1::CaInfo& ca : reply.cas()) PrintCa(ca);
    return 0;
  }
  std::vector<std::string> items;
  for (const v1::CaInfo& ca : reply.cas())
    items.push_back(JsonFields()
                        .Str("issuer", ca.issuer())
                        .Str("key_label", ca.key_label())
                        .Str("state", ca.state())
                        .Str("key_id", ca.key_id())
                        .Str("subject", ca.subject())
                        .Str("not_after", ca.not_after())
                        .Num("activate_at_unix_ms", ca.activate_at_unix_ms())
                        .str());
  std::printf("%s\n", JsonArray(items).c_str());
  return 0;
}

int Stage(v1::Officer::Stub& stub, const base::Args& args) {
  v1::StageCaRequest request;
  auto issuer = args.Require("issuer");
  auto label = args.Require("label");
  auto cert = args.Require("cert");
  if (!issuer.ok()) return Fail(issuer.error());
  if (!label.ok()) return Fail(label.error());
  if (!cert.ok()) return Fail(cert.error());
  auto pem = base::ReadFile(*cert, 256 * 1024);
  if (!pem.ok()) return Fail(pem.error());
  request.set_issuer(*issuer);
  request.set_key_label(*label);
  request.set_certificate_pem(*pem);
  v1::StageCaResponse reply;
  grpc::Status status = stub.StageCa(OfficerContext().get(), request, &reply);
  if (!status.ok()) return Fail(FromStatus(status));
  PrintCa(reply.ca());
  std::printf("staged (audit record %llu); it signs nothing until activated: stationctl ca activate --ca %s\n",
              static_cast<unsigned long long>(reply.audit_seq()), reply.ca().key_label().c_str());
  return 0;
}

int ActivateOrRetire(v1::Officer::Stub& stub, const std::string& sub, const base::Args& args) {
  auto ca = args.Require("ca");
  if (!ca.ok()) return Fail(ca.error());
  v1::ApprovalResponse reply;
  if (sub == "retire") {
    v1::RetireCaRequest request;
    request.set_issuer(args.Get("issuer", ""));
    request.set_ca(*ca);
    return PrintApproval(stub.RetireCa(OfficerContext().get(), request, &reply), reply);
  }
  v1::ActivateCaRequest request;
  request.set_issuer(args.Get("issuer", ""));
  request.set_ca(*ca);
  if (auto at = args.Get("at")) {
    auto ms = ParseTime(*at);
    if (!ms.ok()) return Fail(ms.error());
    request.set_at_unix_ms(*ms);
  }
  return PrintApproval(stub.ActivateCa(OfficerContext().get(), request, &reply), reply);
}

}  // namespace

int OfficerCaCommand(const std::string& sub, const base::Args& args) {
  auto stub = ConnectOfficer(args);
  if (!stub.ok()) return Fail(stub.error());
  if (sub == "list") return List(**stub, args);
  if (sub == "stage") return Stage(**stub, args);
  return ActivateOrRetire(**stub, sub, args);
}

int OfficerApproveReissue(const base::Args& args) {
  auto stub = ConnectOfficer(args);
  if (!stub.ok()) return Fail(stub.error());
  v1::ApproveReissueRequest request;
  auto profile = args.Require("profile");
  auto device = args.Require("device-id");
  if (!profile.ok()) return Fail(profile.error());
  if (!device.ok()) return Fail(device.error());
  auto ttl = base::ParseDuration(args.Get("ttl", "24h"));
  if (!ttl.ok()) return Fail(ttl.error());
  request.set_profile(*profile);
  request.set_device_id(*device);
  request.set_ttl_seconds(*ttl);
  v1::ApprovalResponse reply;
  return PrintApproval((*stub)->ApproveReissue(OfficerContext().get(), request, &reply), reply);
}

int OfficerProfileCommand(const std::string& sub, const base::Args& args) {
  auto stub = ConnectOfficer(args);
  if (!stub.ok()) return Fail(stub.error());
  if (sub == "list") {
    auto json = JsonWanted(args);
    if (!json.ok()) return Fail(json.error());
    v1::ListProfilesResponse reply;
    grpc::Status status = (*stub)->ListProfiles(OfficerContext().get(), v1::ListProfilesRequest(), &reply);
    if (!status.ok()) return Fail(FromStatus(status));
    if (*json) {
      std::vector<std::string> items;
      for (const v1::ProfileInfo& p : reply.profiles())
        items.push_back(JsonFields()
                            .Str("name", p.name())
                            .Str("description", p.description())
                            .Str("authorization", p.authorization())
                            .Bool("one_per_device", p.one_per_device())
                            .Strs("lines", {p.lines().begin(), p.lines().end()})
                            .Strs("file_lines", {p.file_lines().begin(), p.file_lines().end()})
                            .str());
      std::printf("%s\n", JsonArray(items).c_str());
      return 0;
    }
    for (const v1::ProfileInfo& p : reply.profiles()) {
      auto joined = [](const auto& list) {
        std::string out;
        for (const std::string& line : list) out += (out.empty() ? "" : ",") + line;
        return out;
      };
      std::string lines = joined(p.lines()), file_lines = joined(p.file_lines());
      std::printf("%s: %s [authorization %s%s, lines %s%s]\n", p.name().c_str(), p.description().c_str(),
                  p.authorization().c_str(), p.one_per_device() ? ", one per device" : "", lines.c_str(),
                  lines == file_lines ? "" : (" (set by officers; file says " + file_lines + ")").c_str());
    }
    return 0;
  }
  auto profile = args.Require("profile");
  auto lines = args.Require("lines");
  if (!profile.ok()) return Fail(profile.error());
  if (!lines.ok()) return Fail(lines.error());
  v1::SetProfileLinesRequest request;
  request.set_profile(*profile);
  for (const std::string& line : SplitList(*lines)) request.add_lines(line);
  v1::ApprovalResponse reply;
  return PrintApproval((*stub)->SetProfileLines(OfficerContext().get(), request, &reply), reply);
}

}  // namespace station::cli
