// `stationctl dev-setup`: everything a development station needs, under one
// directory: its own SoftHSM token, a CA key and an audit (checkpoint) key
// generated in it, TLS material,
// station.conf and line.conf, the shipped issuance profiles, a lab Matter
// PAA and PAI (both in the token) for the matter-dac profile, and a lab claim
// CA (in the token) for fleet-claim. Never for
// production: the TLS keys are files.
#pragma once

#include <string>

#include "station/base/error.h"

namespace station::setup {

struct DevSetupOptions {
  std::string dir;                                      // created if missing; must not hold a station yet
  std::string listen = "127.0.0.1:7443";                // the server's listen address
  std::string ca_key = "ec-p256";                       // ec-p256 | ec-p384 | rsa-2048 | rsa-3072
  std::string module = "/usr/lib/softhsm/libsofthsm2.so";
  // A shared PostgreSQL store instead of the embedded SQLite file (docs/scaling.md):
  // its URL, the 0600 file with its password, and this station's id ("": one is picked).
  std::string store_url;
  std::string store_password_file;
  std::string station_id;
};

struct DevSetupResult {
  std::string station_conf;  // DIR/station.conf
  std::string line_conf;     // DIR/line.conf
  std::string ca_cert;       // DIR/ca/ca.pem (the issuing CA: what devices chain to)
  std::string key_uri;       // the CA key in the token
  std::string profiles_dir;  // DIR/profiles: the shipped profiles
  std::string matter_paa_cert;  // DIR/ca/matter-paa.pem: the lab PAA the matter-dac chain ends in
  std::string claim_ca_cert;    // DIR/ca/claim-ca.pem: the lab CA of fleet-claim certificates
  std::string audit_public_key;  // DIR/audit-key.pem: verifies the audit log's checkpoints
  std::string audit_origin;      // the log's origin (checkpoint key name)
  std::string station_id;        // with a shared store: the id its log is kept under
};

// Must run before this process has loaded the SoftHSM module (it points
// SOFTHSM2_CONF at the new token directory).
Result<DevSetupResult> DevSetup(const DevSetupOptions& options);

}  // namespace station::setup
