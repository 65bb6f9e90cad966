// Test fixtures: a temporary directory, and a complete development station
// (its own SoftHSM token, CA key, TLS material, configs) made inside it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "station/config/config.h"
#include "station/pki/x509.h"
#include "station/setup/dev_setup.h"

namespace station::testing {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct DevStation {
  TempDir dir;
  setup::DevSetupResult setup;
  config::StationConfig config;
  std::string user_pin;  // read back from the PIN file, for assertions only
};

// Makes a development station with the given CA key type. Call once per test
// process (the SoftHSM module reads SOFTHSM2_CONF once, when it is loaded).
std::unique_ptr<DevStation> MakeDevStation(const std::string& ca_key = "ec-p256");

// A client certificate and its key (PEM files).
struct ClientIdentity {
  std::string cert, key;
};

struct ClientCertOptions {
  std::string role = "line";  // the OU
  int starts_in_days = 0;     // notBefore (negative: in the past)
  int validity_days = 365;
  X509* issuer = nullptr;     // with issuer_key: another CA than the station's client CA
  EVP_PKEY* issuer_key = nullptr;
};

// The dev station's TLS CA (tls/tls-ca.pem and its key file): it issues the
// server, line and officer certificates. Null members if it cannot be read.
struct DevTlsCa {
  X509Ptr cert;
  EvpPkeyPtr key;
};
DevTlsCa LoadDevTlsCa(const DevStation& dev);

// A new client certificate "CN=<name>,OU=<role>" from the dev station's TLS CA
// (tls/tls-ca.pem), written into its tls/ directory as NAME.pem and NAME.key.
ClientIdentity MakeClientIdentity(const DevStation& dev, const std::string& name,
                                  const ClientCertOptions& options = {});

// The dev station's line.conf, pointed at `address`, as the client `id`.
config::LineConfig LineAs(const DevStation& dev, const std::string& address, const ClientIdentity& id);

// The path of a built program (station-server, stationctl, station-line).
std::string ProgramPath(const std::string& name);

// station-server with `args`, plus --allow-root when the tests run as root (CI does).
std::vector<std::string> ServerCommand(const std::vector<std::string>& args);

}  // namespace station::testing
