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
#include "station/audit/writer.h"
#include "station/base/error.h"
#include "station/issuance/pipeline.h"

namespace station::config {

struct TokenConfig {
  std::string module = "/usr/lib/softhsm/libsofthsm2.so";  // PKCS#11 module path
  std::string uri;                                      // token URI, e.g. "pkcs11:token=station"
  hsm::PinSource pin;                                   // pin_file | pin_env | pin_credential
  std::map<std::string, std::string> env;               // set before loading the module (SOFTHSM2_CONF=...)
  size_t sessions = 0;                                  // 0: signers + 2
  // sign_timeout is read into IssuanceConfig::pipeline (its one default).
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
  std::string key_credential;  // or: the systemd credential holding it (LoadCredential=)
  std::string client_ca;  // the CA that issues line and officer client certificates
  std::string crl;        // optional: PEM revocation list(s) of client_ca; revoked clients are refused
};

// The file the server's TLS key is read from: `key`, or the file of the
// systemd credential `key_credential` (hsm::CredentialPath).
Result<std::string> TlsKeyPath(const TlsConfig& tls);

struct IssuanceConfig {
  // workers, signers, queue_depth, max_csr_bytes, default_profile, and
  // [token] sign_timeout, with their defaults (issuance/pipeline.h).
  issuance::PipelineOptions pipeline;
  std::string profiles_dir;  // one TOML file per profile (docs/profiles.md); required
};

// The server's bounds on its callers (the line service reads them as they are).
struct LimitsConfig {
  // Concurrent SignStream calls. Default: 64.
  size_t max_streams = 64;
  // Of those, from one line (client certificate CN). Default: 16.
  size_t max_streams_per_line = 16;
  // A connection that has not finished TLS by then is closed. Default: 10 s.
  int64_t handshake_timeout_s = 10;
  // A stream's requests in work or answered but not yet sent. Default: 256.
  size_t max_inflight_per_stream = 256;
  // Largest gRPC message accepted. Default: 64 KiB.
  size_t max_message_bytes = 64 * 1024;
  // A stream with nothing in flight and no message is ended. Default: 600 s.
  int64_t stream_idle_timeout_s = 600;
};

struct AuditConfig {
  // max_batch, commit_delay_ms, checkpoint_every, checkpoint_interval, with
  // their defaults (audit/writer.h).
  audit::WriterOptions writer;
  // The checkpoint signing key in the token (`stationctl audit init-key`), its
  // public half as a PEM file (what verifiers use), and the log's origin: the
  // first line of every checkpoint and the key name of its signature.
  std::string key_uri;
  std::string public_key;
  std::string origin;
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

// Where the audit log and registry live: the embedded SQLite file in
// state_dir (no url), or a PostgreSQL database shared by a fleet of stations
// (docs/scaling.md), in which this station keeps its own log under station_id.
struct StoreConfig {
  std::string url;            // libpq connection string or postgresql:// URI; "" for SQLite
  std::string password_file;  // 0600, PGPASSFILE format; never the password itself
  std::string station_id;     // required with url: 1 to 64 of [A-Za-z0-9._-]
  bool shared() const { return !url.empty(); }
};

// A station id: 1 to 64 of A-Z a-z 0-9 . _ -
bool ValidStationId(const std::string& id);

// [metrics]: Prometheus' text format on GET /metrics, from a listener of its
// own (docs/operations.md). Off unless `listen` is set.
struct MetricsConfig {
  std::string listen;  // "HOST:PORT", e.g. "127.0.0.1:9464"; port 0 picks one
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
  StoreConfig store;
  MetricsConfig metrics;

  std::string audit_db_path() const { return state_dir + "/audit.db"; }
  // Where the log is, for people: the SQLite file, or "station ID of URL".
  std::string store_name() const {
    return store.shared() ? "station " + store.station_id + " of " + store.url : audit_db_path();
  }
  size_t session_count() const;  // token.sessions, or the pipeline's signers + 2
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
