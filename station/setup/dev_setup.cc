#include "station/setup/dev_setup.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "hsm/token.h"
#include "station/base/files.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"
#include "station/setup/audit_key.h"
#include "station/setup/ca_init.h"
#include "station/setup/dev_files.h"
#include "station/setup/shipped_profiles.h"

namespace station::setup {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTokenLabel = "station";

// The Matter test Vendor ID (Matter Core Specification 2.5.2: 0xFFF1-0xFFF4 are for testing).
constexpr const char* kMatterTestVendorId = "FFF1";

// A lab Matter PKI in the token: a PAA (root) and a PAI under it that issues
// DACs. Both P-256, as Matter requires; both name the test Vendor ID.
Status MakeMatterPki(const std::shared_ptr<hsm::Token>& token, const std::string& ca_dir, const std::string& tag) {
  CaCertRequest paa;
  paa.subject = "CN=Station Dev Matter PAA " + tag + ",1.3.6.1.4.1.37244.2.1=" + kMatterTestVendorId;
  paa.validity_days = 36500;
  paa.path_len = 1;
  ST_ASSIGN_OR_RETURN(auto root, InitSelfSignedCa(token, hsm::KeyAlgorithm::kEcP256, "matter-paa", paa));
  ST_ASSIGN_OR_RETURN(auto root_cert, pki::ParseCertsPem(root.cert_pem, "the PAA"));
  CaCertRequest pai;
  pai.subject = "CN=Station Dev Matter PAI " + tag + ",1.3.6.1.4.1.37244.2.1=" + kMatterTestVendorId;
  pai.validity_days = 36500 - 1;
  pai.issuer_key = root.key.key.get();
  pai.issuer_cert = root_cert.front().get();
  ST_ASSIGN_OR_RETURN(auto intermediate, GenerateCaKey(token, hsm::KeyAlgorithm::kEcP256, "matter-pai"));
  ST_ASSIGN_OR_RETURN(std::string pai_pem, MakeCaCertPem(*intermediate.key, pai));
  ST_RETURN_IF_ERROR(base::WriteFile(ca_dir + "/matter-paa.pem", root.cert_pem, 0644));
  return base::WriteFile(ca_dir + "/matter-pai.pem", pai_pem, 0644);
}

// What a request that names no profile gets on a development station: a
// visible file an operator can read, change or delete (a factory station
// serves only the profiles its officers wrote).
constexpr const char* kLabDefaultProfile =
    "# Lab default written by `stationctl dev-setup`: the profile of requests that name\n"
    "# none ([issuance] default_profile). Any line; no lot, no registration code, not one\n"
    "# certificate per device; CN = the device id, else the CSR's own subject; ten years\n"
    "# under [ca]. Not for a factory: delete it and unset default_profile there, so every\n"
    "# request names its profile. Reference: docs/profiles.md\n"
    "description = \"Lab default (dev-setup): any line, CN = device id or the CSR's subject\"\n"
    "lines = [\"*\"]\n";

}  // namespace

Result<DevSetupResult> DevSetup(const DevSetupOptions& options) {
  ST_ASSIGN_OR_RETURN(auto ca_alg, hsm::ParseKeyAlgorithm(options.ca_key));
  if (ca_alg == hsm::KeyAlgorithm::kRsa4096)
    return MakeError(Code::kInvalidArgument, "UNSUPPORTED_KEY_ALGORITHM", "dev-setup offers ec-p256, ec-p384, rsa-2048, rsa-3072");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  std::string dir = fs::absolute(options.dir, ec).lexically_normal().string();
  if (!dir.empty() && dir.back() == '/') dir.pop_back();
  DevSetupResult result;
  result.station_conf = dir + "/station.conf";
  result.line_conf = dir + "/line.conf";
  result.ca_cert = dir + "/ca/ca.pem";
  if (fs::exists(result.station_conf))
    return MakeError(Code::kAlreadyExists, "ALREADY_SET_UP",
                     dir + " already holds a station (" + result.station_conf + "); choose another --dir or remove it");
  for (const char* sub : {"", "/token", "/secrets", "/ca", "/tls", "/state", "/profiles"})
    ST_RETURN_IF_ERROR(MakeDir(dir + sub, std::strcmp(sub, "/ca") == 0 || std::strcmp(sub, "/tls") == 0 ||
                                                  std::strcmp(sub, "/profiles") == 0
                                              ? 0755
                                              : 0700));

  // The token: SoftHSM keeps it under DIR/token, configured by DIR/softhsm2.conf.
  std::string softhsm_conf = dir + "/softhsm2.conf";
  ST_RETURN_IF_ERROR(base::WriteFile(softhsm_conf,
                                    "# SoftHSM2 token of this development station\n"
                                    "directories.tokendir = " + dir + "/token\n"
                                    "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                                    0600));
  ::setenv("SOFTHSM2_CONF", softhsm_conf.c_str(), 1);
  Secret user_pin(RandomHex(16)), so_pin(RandomHex(16));
  std::string user_pin_file = dir + "/secrets/user.pin";
  ST_RETURN_IF_ERROR(base::WriteFile(user_pin_file, user_pin.reveal() + "\n", 0600));
  ST_RETURN_IF_ERROR(base::WriteFile(dir + "/secrets/so.pin", so_pin.reveal() + "\n", 0600));
  ST_ASSIGN_OR_RETURN(auto module, hsm::Module::Load(options.module));
  ST_RETURN_IF_ERROR(hsm::InitializeToken(*module, kTokenLabel, so_pin, user_pin));
  hsm::Pkcs11Uri token_uri;
  token_uri.token = kTokenLabel;
  ST_ASSIGN_OR_RETURN(auto token, hsm::Token::Open(module, token_uri, Secret(user_pin.reveal())));

  // The issuing CA: key generated inside the token, self-signed certificate.
  CaCertRequest ca_request;
  ca_request.subject = "CN=Station Dev CA " + RandomHex(4) + ",O=Signing Station (development)";
  ST_ASSIGN_OR_RETURN(auto ca, InitSelfSignedCa(token, ca_alg, "station-ca", ca_request));
  result.key_uri = ca.key.key_uri;
  ST_RETURN_IF_ERROR(base::WriteFile(result.ca_cert, ca.cert_pem, 0644));
  ST_RETURN_IF_ERROR(MakeMatterPki(token, dir + "/ca", RandomHex(4)));
  // AWS IoT fleet provisioning claims come from a CA of their own, so the CA
  // registered for JITR never signs one (docs/aws.md).
  CaCertRequest claim_request;
  claim_request.subject = "CN=Station Dev Claim CA " + RandomHex(4) + ",O=Signing Station (development)";
  ST_ASSIGN_OR_RETURN(auto claim_ca, InitSelfSignedCa(token, hsm::KeyAlgorithm::kEcP256, "claim-ca", claim_request));
  result.claim_ca_cert = dir + "/ca/claim-ca.pem";
  ST_RETURN_IF_ERROR(base::WriteFile(result.claim_ca_cert, claim_ca.cert_pem, 0644));
  // The roots this station trusts: its own self-signed CA, the Matter PAA and the claim CA.
  ST_ASSIGN_OR_RETURN(std::string paa_pem, base::ReadFile(dir + "/ca/matter-paa.pem"));
  ST_RETURN_IF_ERROR(base::WriteFile(dir + "/ca/roots.pem", ca.cert_pem + paa_pem + claim_ca.cert_pem, 0644));
  AuditKeyRequest audit_request;
  audit_request.origin = DefaultAuditOrigin();
  audit_request.public_key_path = dir + "/audit-key.pem";
  ST_ASSIGN_OR_RETURN(auto audit_key, InitAuditKey(token, audit_request));
  result.audit_public_key = audit_request.public_key_path;
  result.audit_origin = audit_request.origin;
  result.matter_paa_cert = dir + "/ca/matter-paa.pem";
  result.profiles_dir = dir + "/profiles";
  for (const ShippedProfile& profile : ShippedProfiles())
    ST_RETURN_IF_ERROR(base::WriteFile(result.profiles_dir + "/" + profile.file_name, profile.text, 0644));
  ST_RETURN_IF_ERROR(base::WriteFile(result.profiles_dir + "/default.toml", kLabDefaultProfile, 0644));

  // TLS: a separate software CA for the gRPC channel (it never signs devices).
  ST_ASSIGN_OR_RETURN(auto tls_ca_key, pki::GenerateSoftwareKey("ec-p256"));
  pki::CertSpec tls_ca_spec;
  tls_ca_spec.subject = "CN=Station Dev TLS CA " + RandomHex(4) + ",O=Signing Station (development)";
  tls_ca_spec.validity_days = 825;
  tls_ca_spec.is_ca = true;
  tls_ca_spec.path_len = 0;
  ST_ASSIGN_OR_RETURN(auto tls_ca, pki::MakeCert(tls_ca_spec, tls_ca_key.get(), tls_ca_key.get(), nullptr));
  std::string tls_dir = dir + "/tls";
  ST_RETURN_IF_ERROR(base::WriteFile(tls_dir + "/tls-ca.pem", pki::CertPem(tls_ca.get()), 0644));
  ST_RETURN_IF_ERROR(base::WriteFile(tls_dir + "/tls-ca.key", pki::PrivateKeyPem(tls_ca_key.get()), 0600));

  ST_RETURN_IF_ERROR(WriteServerPair(tls_dir, options.listen, tls_ca_key.get(), tls_ca.get()));
  ST_ASSIGN_OR_RETURN(TlsPair line_pair, WriteClientPair(tls_dir, "line-1", "line", tls_ca_key.get(), tls_ca.get()));
  // Two officers: activating or retiring a CA takes both (two-person control).
  std::vector<TlsPair> officer_pairs;
  for (const char* name : {"officer-1", "officer-2"}) {
    ST_ASSIGN_OR_RETURN(TlsPair pair, WriteClientPair(tls_dir, name, "officer", tls_ca_key.get(), tls_ca.get()));
    officer_pairs.push_back(std::move(pair));
  }

  std::string station_conf =
      "# Development station made by `stationctl dev-setup`. Reference: docs/configuration.md\n"
      "listen = " + Quote(options.listen) + "\n"
      "state_dir = \"state\"\n\n"
      "[token]\n"
      "module = " + Quote(options.module) + "\n"
      "uri = " + Quote(token_uri.ToString()) + "\n"
      "pin_file = \"secrets/user.pin\"\n\n"
      "[token.env]\n"
      "SOFTHSM2_CONF = " + Quote(softhsm_conf) + "\n\n"
      "[ca]\n"
      "key_uri = " + Quote(ca.key.key_uri) + "\n"
      "certificate = \"ca/ca.pem\"\n"
      "root = \"ca/roots.pem\"   # every issuing CA must chain to one of these\n\n"
      "[tls]\n"
      "cert = \"tls/server.pem\"\n"
      "key = \"tls/server.key\"\n"
      "client_ca = \"tls/tls-ca.pem\"\n\n"
      "[issuance]\n"
      "profiles_dir = \"profiles\"   # one TOML file per profile; docs/profiles.md\n"
      "default_profile = \"default\"   # profiles/default.toml, a lab profile: for requests that name none\n\n"
      "[audit]\n"
      "key_uri = " + Quote(audit_key.key_uri) + "\n"
      "public_key = \"audit-key.pem\"\n"
      "origin = " + Quote(audit_request.origin) + "\n"
      "checkpoint_every = 1000\n"
      "checkpoint_interval = \"60s\"\n\n"
      "[officers]   # docs/officer.md\n"
      "members = [\"officer-1\", \"officer-2\"]\n"
      "approvals_required = 2\n"
      "approval_ttl = \"1h\"\n";
  if (!options.store_url.empty()) {
    result.station_id = options.station_id.empty() ? "station-" + RandomHex(4) : options.station_id;
    station_conf += "\n[store]   # docs/scaling.md: a PostgreSQL database shared by the fleet's stations\n"
                    "url = " + Quote(options.store_url) + "\n";
    if (!options.store_password_file.empty())
      station_conf += "password_file = " + Quote(fs::absolute(options.store_password_file).string()) + "\n";
    station_conf += "station_id = " + Quote(result.station_id) + "\n";
  }
  ST_RETURN_IF_ERROR(base::WriteFile(result.station_conf, station_conf, 0644));
  // Client configs name their files relative to themselves.
  auto client_conf = [&](const TlsPair& pair) {
    const auto relative = [](const std::string& path) { return "tls/" + fs::path(path).filename().string(); };
    return ClientConf(options.listen, "tls/tls-ca.pem", {relative(pair.cert_path), relative(pair.key_path)});
  };
  ST_RETURN_IF_ERROR(base::WriteFile(result.line_conf, client_conf(line_pair), 0644));
  ST_RETURN_IF_ERROR(base::WriteFile(dir + "/officer.conf", client_conf(officer_pairs[0]), 0644));
  ST_RETURN_IF_ERROR(base::WriteFile(dir + "/officer-2.conf", client_conf(officer_pairs[1]), 0644));
  return result;
}

}  // namespace station::setup
