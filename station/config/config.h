// The server's and the line client's configuration files (TOML).
//
// Every field, its default and its bound are here and in
// docs/configuration.md. Relative paths are relative to the config file's
// directory. An unknown key is an error: a typo must not silently become a default.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hsm/pin.h"
#include "station/base/error.h"

namespace station::config {

struct TokenConfig {
  std::string module = "/usr/lib/softhsm/libsofthsm2.so";  // PKCS#11 module path
  std::string uri;                                      // token URI, e.g. "pkcs11:token=station"
  hsm::PinSource pin;                                   // pin_file | pin_env | pin_credential
  std::map<std::string, std::string> env;               // set before loading the module (SOFTHSM2_CONF=...)
  size_t sessions = 0;                                  // 0: signers + 2
  int64_t sign_timeout_s = 10;  // a signature not made in this time is answered UNAVAILABLE TOKEN_TIMEOUT
};

struct CaConfig {
  std::string key_uri;      // the issuing CA's private key, e.g. "pkcs11:token=station;object=station-ca"
  std::string certificate;  // PEM: the issuing CA certificate, then any intermediates up to (not incl.) the root
  // PEM: the root(s) every issuing CA of this station must chain to. Checked at
  // start and by `ca import-cert` (which needs it); a lab's self-signed CA is its own root.
  std::string root;
};

struct TlsConfig {
  std::string cert;       // server certificate chain, PEM
  std::string key;        // server private key, PEM, mode 0600
  std::string client_ca;  // the CA that issues line and officer client certificates
  std::string crl;        // optional: PEM revocation list(s) of client_ca; revoked clients are refused
};

struct IssuanceConfig {
  size_t workers = 0;               // threads that check requests and build certificates; 0: one per CPU core
  size_t signers = 0;               // threads that sign in the token, one session each; 0: as many as workers
  size_t queue_depth = 4096;        // requests waiting for a worker before RESOURCE_EXHAUSTED
  size_t max_csr_bytes = 16 * 1024; // larger CSRs are refused
  std::string profiles_dir;         // one TOML file per profile (docs/profiles.md); required
  std::string default_profile;      // the profile of a request that names none; empty: PROFILE_REQUIRED
};

struct LimitsConfig {
  size_t max_streams = 64;                 // concurrent SignStream calls
  size_t max_streams_per_line = 16;        // of those, from one line (client certificate CN)
  int64_t handshake_timeout_s = 10;        // a connection that has not finished TLS by then is closed
  size_t max_inflight_per_stream = 256;    // a stream's requests being worked on at once
  size_t max_message_bytes = 64 * 1024;    // largest gRPC message accepted
  int64_t stream_idle_timeout_s = 600;      // a stream with nothing in flight and no message is ended
};

struct AuditConfig {
  size_t max_batch = 512;  // records per group commit (one transaction, one fsync)
  int64_t commit_delay_ms = 2;  // while the station is saturated, how long the audit writer gathers records (0: never)
  // The checkpoint signing key in the token (`stationctl audit init-key`), its
  // public half as a PEM file (what verifiers use), and the log's origin: the
  // first line of every checkpoint and the key name of its signature.
  std::string key_uri;
  std::string public_key;
  std::string origin;
  uint64_t checkpoint_every = 1000;        // records between signed checkpoints
  int64_t checkpoint_interval_s = 60;      // at most this long between checkpoints while records arrive
  // Never read from a config file: station-server sets it from the
  // environment (STATION_BENCH_UNDURABLE_AUDIT=1) for station-bench alone.
  bool bench_undurable = false;
};

// Two-person control (docs/officer.md): the officers (client certificates
// with OU=officer) who may use the Officer service, and how many of them must
// approve an action that puts a CA into or out of service, lets a device have
// a second certificate, or changes who may use a profile.
struct OfficersConfig {
  std::vector<std::string> members;  // identities (CN); empty: the Officer service refuses every call
  size_t approvals_required = 2;     // k of n = members.size()
  int64_t approval_ttl_s = 3600;     // an approval not used by then no longer counts
};

struct StationConfig {
  std::string path;       // the file this was read from
  std::string listen = "127.0.0.1:7443";
  std::string state_dir;  // holds audit.db
  TokenConfig token;
  CaConfig ca;
  TlsConfig tls;
  IssuanceConfig issuance;
  LimitsConfig limits;
  AuditConfig audit;
  OfficersConfig officers;

  std::string audit_db_path() const { return state_dir + "/audit.db"; }
  size_t worker_count() const;   // issuance.workers, or the number of cores
  size_t signer_count() const;   // issuance.signers, or worker_count()
  size_t session_count() const;  // token.sessions, or signers + 2
};

Result<StationConfig> LoadStationConfig(const std::string& path);
// The same from text; `path` names it in errors and anchors relative paths.
Result<StationConfig> ParseStationConfig(std::string_view text, const std::string& path);

// The line client's connection settings.
struct LineConfig {
  std::string path;
  std::string target;       // "HOST:PORT" of the station
  std::string ca;           // the TLS CA that signed the station's server certificate
  std::string cert;         // this line's client certificate (PEM)
  std::string key;          // its private key (PEM, mode 0600)
  std::string server_name;  // TLS name to expect; empty: the host of target
  int deadline_seconds = 30;  // per Sign call; a stream has none
};

Result<LineConfig> LoadLineConfig(const std::string& path);
Result<LineConfig> ParseLineConfig(std::string_view text, const std::string& path);

// Sets the token's environment (SOFTHSM2_CONF, a network HSM's client config)
// for this process before the module is loaded.
void ApplyTokenEnvironment(const TokenConfig& token);

}  // namespace station::config
