#include "station/setup/dev_files.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "station/base/files.h"
#include "station/pki/pem.h"

namespace station::setup {
namespace {

// "127.0.0.1:7443" -> host "127.0.0.1"; "[::1]:7443" -> "::1".
std::string HostOf(const std::string& listen) {
  if (!listen.empty() && listen[0] == '[') return listen.substr(1, listen.find(']') - 1);
  return listen.substr(0, listen.rfind(':'));
}

bool IsIpAddress(const std::string& host) {
  return host.find_first_not_of("0123456789.") == std::string::npos || host.find(':') != std::string::npos;
}

}  // namespace

Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    return MakeError(Code::kFailedPrecondition, "DEV_SETUP_FAILED",
                     "cannot create " + path + ": " + std::strerror(errno));
  ::chmod(path.c_str(), mode);
  return {};
}

std::string RandomHex(size_t bytes) {
  Bytes raw(bytes);
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  return Hex(raw);
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

Result<TlsPair> WriteTlsPair(const std::string& dir, const std::string& name, const pki::CertSpec& spec,
                             EVP_PKEY* ca_key, X509* ca_cert) {
  ST_ASSIGN_OR_RETURN(auto key, pki::GenerateSoftwareKey("ec-p256"));
  ST_ASSIGN_OR_RETURN(auto cert, pki::MakeCert(spec, key.get(), ca_key, ca_cert));
  TlsPair out{dir + "/" + name + ".pem", dir + "/" + name + ".key"};
  ST_RETURN_IF_ERROR(base::WriteFile(out.key_path, pki::PrivateKeyPem(key.get()), 0600));
  ST_RETURN_IF_ERROR(base::WriteFile(out.cert_path, pki::CertPem(cert.get()), 0644));
  return out;
}

Result<TlsPair> WriteServerPair(const std::string& tls_dir, const std::string& listen, EVP_PKEY* ca_key,
                                X509* ca_cert) {
  const std::string host = HostOf(listen);
  pki::CertSpec server;
  server.subject = "CN=station-server,O=Signing Station (development)";
  server.validity_days = 825;
  server.extended_key_usage = "serverAuth";
  server.san = {"DNS:localhost", "IP:127.0.0.1", "IP:::1"};
  if (!host.empty() && host != "localhost" && host != "127.0.0.1" && host != "::1" && host != "0.0.0.0" && host != "::")
    server.san.push_back((IsIpAddress(host) ? "IP:" : "DNS:") + host);
  return WriteTlsPair(tls_dir, "server", server, ca_key, ca_cert);
}

Result<TlsPair> WriteClientPair(const std::string& tls_dir, const std::string& name, const std::string& role,
                                EVP_PKEY* ca_key, X509* ca_cert) {
  // Roles travel in the client certificate's OU: "line" or "officer".
  pki::CertSpec client;
  client.subject = "CN=" + name + ",OU=" + role + ",O=Signing Station (development)";
  client.validity_days = 825;
  client.extended_key_usage = "clientAuth";
  return WriteTlsPair(tls_dir, name, client, ca_key, ca_cert);
}

std::string ClientConf(const std::string& listen, const std::string& tls_ca, const TlsPair& pair) {
  const std::string host = HostOf(listen);
  std::string target = listen;
  if (host == "0.0.0.0") target = "127.0.0.1" + listen.substr(listen.rfind(':'));
  if (host == "::") target = "[::1]" + listen.substr(listen.rfind(':'));
  return "# Client settings made by `stationctl dev-setup`. Reference: docs/configuration.md\n"
         "target = " + Quote(target) + "\n\n"
         "[tls]\n"
         "ca = " + Quote(tls_ca) + "\n"
         "cert = " + Quote(pair.cert_path) + "\n"
         "key = " + Quote(pair.key_path) + "\n";
}

}  // namespace station::setup
