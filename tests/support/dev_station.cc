#include "tests/support/dev_station.h"

#include <openssl/pem.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "station/base/files.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"

namespace station::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/station-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::unique_ptr<DevStation> MakeDevStation(const std::string& ca_key) {
  auto station = std::make_unique<DevStation>();
  setup::DevSetupOptions options;
  options.dir = station->dir.path() + "/station";
  options.listen = "127.0.0.1:0";
  options.ca_key = ca_key;
  options.module = SOFTHSM_MODULE;
  auto result = setup::DevSetup(options);
  if (!result.ok()) {
    ADD_FAILURE() << "dev-setup failed: " << result.error().ToString();
    return nullptr;
  }
  station->setup = *result;
  auto config = config::LoadStationConfig(result->station_conf);
  if (!config.ok()) {
    ADD_FAILURE() << "station.conf does not load: " << config.error().ToString();
    return nullptr;
  }
  station->config = *config;
  station->config.issuance.pipeline.workers = 2;
  auto pin = base::ReadFile(options.dir + "/secrets/user.pin");
  if (pin.ok()) station->user_pin = pin->substr(0, pin->find('\n'));
  return station;
}

DevTlsCa LoadDevTlsCa(const DevStation& dev) {
  const std::string dir = dev.dir.path() + "/station/tls";
  DevTlsCa ca;
  auto certs = pki::ReadCertsPem(dir + "/tls-ca.pem");
  auto key_pem = base::ReadFile(dir + "/tls-ca.key");
  if (!certs.ok() || !key_pem.ok()) {
    ADD_FAILURE() << "no dev TLS CA in " << dir;
    return ca;
  }
  ca.cert = std::move((*certs)[0]);
  BioPtr bio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
  ca.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  return ca;
}

ClientIdentity MakeClientIdentity(const DevStation& dev, const std::string& name, const ClientCertOptions& options) {
  const std::string dir = dev.dir.path() + "/station/tls";
  DevTlsCa ca;
  if (options.issuer == nullptr) ca = LoadDevTlsCa(dev);
  pki::CertSpec spec;
  spec.subject = "CN=" + name + ",OU=" + options.role + ",O=Signing Station (test)";
  spec.extended_key_usage = "clientAuth";
  spec.starts_in_days = options.starts_in_days;
  spec.validity_days = options.validity_days;
  auto key = pki::GenerateSoftwareKey("ec-p256");
  auto cert = key.ok() ? pki::MakeCert(spec, key->get(), options.issuer_key ? options.issuer_key : ca.key.get(),
                                       options.issuer ? options.issuer : ca.cert.get())
                       : Result<X509Ptr>(key.error());
  if (!cert.ok()) {
    ADD_FAILURE() << "client certificate " << name << ": " << cert.error().ToString();
    return {};
  }
  ClientIdentity id{dir + "/" + name + ".pem", dir + "/" + name + ".key"};
  EXPECT_TRUE(base::WriteFile(id.key, pki::PrivateKeyPem(key->get()), 0600).ok());
  EXPECT_TRUE(base::WriteFile(id.cert, pki::CertPem(cert->get())).ok());
  return id;
}

config::LineConfig LineAs(const DevStation& dev, const std::string& address, const ClientIdentity& id) {
  auto line = config::LoadLineConfig(dev.setup.line_conf);
  EXPECT_TRUE(line.ok());
  if (!line.ok()) return {};
  line->target = address;
  line->cert = id.cert;
  line->key = id.key;
  return *line;
}

std::string ProgramPath(const std::string& name) { return std::string(STATION_BIN_DIR) + "/" + name; }

std::vector<std::string> ServerCommand(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ProgramPath("station-server")};
  argv.insert(argv.end(), args.begin(), args.end());
  if (::geteuid() == 0) argv.push_back("--allow-root");
  return argv;
}

}  // namespace station::testing
