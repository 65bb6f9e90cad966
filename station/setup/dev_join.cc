#include "station/setup/dev_join.h"

#include <filesystem>

#include "station/base/files.h"
#include "station/pki/pem.h"
#include "station/setup/audit_key.h"
#include "station/setup/dev_files.h"

namespace station::setup {
namespace {

namespace fs = std::filesystem;

std::string PinLine(const hsm::PinSource& pin) {
  switch (pin.kind) {
    case hsm::PinSource::Kind::kFile: return "pin_file = " + Quote(pin.name) + "\n";
    case hsm::PinSource::Kind::kEnv: return "pin_env = " + Quote(pin.name) + "\n";
    case hsm::PinSource::Kind::kCredential: return "pin_credential = " + Quote(pin.name) + "\n";
  }
  return "";
}

std::string QuotedList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) out += (out.size() > 1 ? ", " : "") + Quote(item);
  return out + "]";
}

}  // namespace

Result<DevSetupResult> JoinFleet(const config::StationConfig& first, std::shared_ptr<hsm::Token> token,
                                 const DevJoinOptions& options) {
  if (!first.store.shared())
    return MakeError(Code::kFailedPrecondition, "DEV_SETUP_FAILED",
                     first.path + " is not on a shared store: a fleet shares one ([store] url; dev-setup --store)");
  // dev-setup keeps the TLS CA's key beside its certificate.
  const std::string tls_ca_key_path = fs::path(first.tls.client_ca).replace_extension(".key").string();
  ST_ASSIGN_OR_RETURN(std::string tls_ca_pem, base::ReadFile(first.tls.client_ca));
  ST_ASSIGN_OR_RETURN(std::string tls_ca_key_pem, base::ReadFile(tls_ca_key_path));
  ST_ASSIGN_OR_RETURN(auto tls_ca, pki::ParseCertsPem(tls_ca_pem, first.tls.client_ca));
  ST_ASSIGN_OR_RETURN(auto tls_ca_key, pki::ParsePrivateKeyPem(tls_ca_key_pem, tls_ca_key_path));

  std::error_code ec;
  fs::create_directories(options.dir, ec);
  const std::string dir = fs::absolute(options.dir, ec).lexically_normal().string();
  DevSetupResult result;
  result.station_conf = dir + "/station.conf";
  result.line_conf = dir + "/line.conf";
  result.ca_cert = first.ca.certificate;
  result.key_uri = first.ca.key_uri;
  result.profiles_dir = first.issuance.profiles_dir;
  result.station_id = options.station_id.empty() ? "station-" + RandomHex(4) : options.station_id;
  if (result.station_id == first.store.station_id)
    return MakeError(Code::kInvalidArgument, "USAGE", "the joining station needs its own --station-id");
  if (fs::exists(result.station_conf))
    return MakeError(Code::kAlreadyExists, "ALREADY_SET_UP",
                     dir + " already holds a station (" + result.station_conf + "); choose another --dir or remove it");
  ST_RETURN_IF_ERROR(MakeDir(dir, 0700));
  ST_RETURN_IF_ERROR(MakeDir(dir + "/state", 0700));
  ST_RETURN_IF_ERROR(MakeDir(dir + "/tls", 0755));

  // Its own log: a new audit key in the fleet's token.
  AuditKeyRequest audit_request;
  audit_request.label = "station-audit-" + result.station_id;
  audit_request.origin = DefaultAuditOrigin();
  audit_request.public_key_path = dir + "/audit-key.pem";
  ST_ASSIGN_OR_RETURN(auto audit_key, InitAuditKey(token, audit_request));
  result.audit_public_key = audit_request.public_key_path;
  result.audit_origin = audit_request.origin;

  const std::string tls_dir = dir + "/tls";
  ST_RETURN_IF_ERROR(WriteServerPair(tls_dir, options.listen, tls_ca_key.get(), tls_ca.front().get()));
  ST_ASSIGN_OR_RETURN(TlsPair line, WriteClientPair(tls_dir, "line-" + result.station_id, "line", tls_ca_key.get(),
                                                    tls_ca.front().get()));

  std::string token_env;
  for (const auto& [name, value] : first.token.env) token_env += name + " = " + Quote(value) + "\n";
  std::string conf =
      "# Development station made by `stationctl dev-setup --join`: of the fleet of " + first.path +
      ".\n# Reference: docs/configuration.md, docs/scaling.md\n"
      "listen = " + Quote(options.listen) + "\n"
      "state_dir = \"state\"\n\n"
      "[token]   # the fleet's token\n"
      "module = " + Quote(first.token.module) + "\n"
      "uri = " + Quote(first.token.uri) + "\n" + PinLine(first.token.pin) + "\n"
      "[token.env]\n" + token_env + "\n"
      "[ca]\n"
      "key_uri = " + Quote(first.ca.key_uri) + "\n"
      "certificate = " + Quote(first.ca.certificate) + "\n" +
      (first.ca.root.empty() ? "" : "root = " + Quote(first.ca.root) + "\n") + "\n"
      "[tls]\n"
      "cert = \"tls/server.pem\"\n"
      "key = \"tls/server.key\"\n"
      "client_ca = " + Quote(first.tls.client_ca) + "\n" +
      (first.tls.crl.empty() ? "" : "crl = " + Quote(first.tls.crl) + "\n") + "\n"
      "[issuance]\n"
      "profiles_dir = " + Quote(first.issuance.profiles_dir) + "   # the fleet's profiles\n" +
      (first.issuance.pipeline.default_profile.empty()
           ? ""
           : "default_profile = " + Quote(first.issuance.pipeline.default_profile) + "\n") + "\n"
      "[audit]   # this station's own log\n"
      "key_uri = " + Quote(audit_key.key_uri) + "\n"
      "public_key = \"audit-key.pem\"\n"
      "origin = " + Quote(audit_request.origin) + "\n"
      "checkpoint_every = 1000\n"
      "checkpoint_interval = \"60s\"\n\n"
      "[officers]   # the fleet's officers\n"
      "members = " + QuotedList(first.officers.members) + "\n"
      "approvals_required = " + std::to_string(first.officers.approvals_required) + "\n"
      "approval_ttl = \"" + std::to_string(first.officers.approval_ttl_s) + "s\"\n\n"
      "[store]   # the fleet's store; this station's log is kept under its station_id\n"
      "url = " + Quote(first.store.url) + "\n" +
      (first.store.password_file.empty() ? "" : "password_file = " + Quote(first.store.password_file) + "\n") +
      "station_id = " + Quote(result.station_id) + "\n";
  ST_RETURN_IF_ERROR(base::WriteFile(result.station_conf, conf, 0644));

  // The line of this station; the officers are the fleet's, their files the first station's.
  const std::string first_dir = fs::path(first.path).parent_path().string();
  ST_RETURN_IF_ERROR(base::WriteFile(result.line_conf, ClientConf(options.listen, first.tls.client_ca, line), 0644));
  for (const char* officer : {"officer-1", "officer-2"}) {
    const TlsPair pair{first_dir + "/tls/" + officer + ".pem", first_dir + "/tls/" + officer + ".key"};
    if (!fs::exists(pair.cert_path)) continue;
    const std::string name = std::string(officer) == "officer-1" ? "/officer.conf" : "/officer-2.conf";
    ST_RETURN_IF_ERROR(base::WriteFile(dir + name, ClientConf(options.listen, first.tls.client_ca, pair), 0644));
  }
  return result;
}

}  // namespace station::setup
