#include "station/config/config.h"

#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "station/base/duration.h"
#include "station/base/toml_fields.h"

namespace station::config {
namespace {

namespace fs = std::filesystem;
using base::Fields;
using base::ParseToml;
using base::ParseTomlText;

// A duration field into a std::chrono duration, within min_s..max_s seconds.
template <typename Duration>
Status ReadDuration(Fields& f, const char* key, Duration& out, int64_t min_s, int64_t max_s) {
  int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(out).count();
  ST_RETURN_IF_ERROR(f.Duration(key, seconds, min_s, max_s));
  out = std::chrono::seconds(seconds);
  return {};
}

Status LoadToken(const toml::table& table, const std::string& path, TokenConfig& token,
                 std::chrono::milliseconds& sign_timeout) {
  Fields f(table, path, "token");
  ST_RETURN_IF_ERROR(f.Path("module", token.module));
  ST_RETURN_IF_ERROR(f.String("uri", token.uri, true));
  ST_RETURN_IF_ERROR(f.Number("sessions", token.sessions, 0, 1024));
  ST_RETURN_IF_ERROR(ReadDuration(f, "sign_timeout", sign_timeout, 1, 600));
  std::string pin_file, pin_env, pin_credential;
  ST_RETURN_IF_ERROR(f.Path("pin_file", pin_file));
  ST_RETURN_IF_ERROR(f.String("pin_env", pin_env));
  ST_RETURN_IF_ERROR(f.String("pin_credential", pin_credential));
  int sources = !pin_file.empty() + !pin_env.empty() + !pin_credential.empty();
  if (sources != 1)
    return f.Wrong("pin_file", "set exactly one of token.pin_file, token.pin_env, token.pin_credential");
  if (!pin_file.empty()) token.pin = {hsm::PinSource::Kind::kFile, pin_file};
  if (!pin_env.empty()) token.pin = {hsm::PinSource::Kind::kEnv, pin_env};
  if (!pin_credential.empty()) token.pin = {hsm::PinSource::Kind::kCredential, pin_credential};
  if (const toml::table* env = f.Table("env")) {
    for (const auto& [key, node] : *env) {
      auto v = node.value<std::string>();
      if (!v) return f.Wrong("env", std::string(key.str()) + " must be a string");
      std::string value = *v;
      // Paths in the environment are relative to the config file too.
      if (!value.empty() && value[0] != '/' && value.find('/') != std::string::npos)
        value = (fs::path(path).parent_path() / value).lexically_normal().string();
      token.env[std::string(key.str())] = value;
    }
  }
  return f.NoUnknownKeys();
}

Status LoadOfficers(const toml::table& table, const std::string& path, OfficersConfig& out) {
  Fields f(table, path, "officers");
  ST_RETURN_IF_ERROR(f.StringList("members", out.members));
  ST_RETURN_IF_ERROR(f.Number("approvals_required", out.approvals_required, 1, 16));
  ST_RETURN_IF_ERROR(f.Duration("approval_ttl", out.approval_ttl_s, 60, 7 * 86400));
  ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  std::set<std::string> seen;
  for (const std::string& m : out.members) {
    if (m.empty() || m.size() > 64) return f.Wrong("members", "officer identities have 1 to 64 characters");
    if (!seen.insert(m).second) return f.Wrong("members", "'" + m + "' is listed twice");
  }
  if (out.members.empty()) return f.Wrong("members", "name the officers (the CN of each officer's client certificate)");
  if (out.approvals_required > out.members.size())
    return f.Wrong("approvals_required", "is " + std::to_string(out.approvals_required) + " but only " +
                                             std::to_string(out.members.size()) + " officers are members");
  return {};
}

}  // namespace

size_t StationConfig::session_count() const {
  return token.sessions > 0 ? token.sessions : issuance.pipeline.signer_count() + 2;
}

bool ValidStationId(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
}

static Status LoadStore(const toml::table& table, const std::string& path, StoreConfig& out) {
  Fields f(table, path, "store");
  ST_RETURN_IF_ERROR(f.String("url", out.url));
  ST_RETURN_IF_ERROR(f.Path("password_file", out.password_file));
  ST_RETURN_IF_ERROR(f.String("station_id", out.station_id));
  ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  if (out.url.rfind("sqlite", 0) == 0)
    return f.Wrong("url", "leave url out for the embedded SQLite store; url names a PostgreSQL database");
  if (out.shared() && out.station_id.empty())
    return f.Wrong("station_id", "a station on a shared store needs its own station_id (stationctl dev-setup picks one)");
  if (!out.station_id.empty() && !ValidStationId(out.station_id)) return f.Wrong("station_id", "1 to 64 of A-Z a-z 0-9 . _ -");
  // postgresql://user:PASSWORD@host/... or password=...: a secret in a config file.
  const size_t scheme = out.url.find("://");
  const size_t at = scheme == std::string::npos ? std::string::npos : out.url.find('@', scheme);
  const bool userinfo_password = at != std::string::npos && at < out.url.find('/', scheme + 3) &&
                                 out.url.substr(scheme + 3, at - scheme - 3).find(':') != std::string::npos;
  if (userinfo_password || out.url.find("password=") != std::string::npos)
    return f.Wrong("url", "holds a password: put it in password_file (0600, PGPASSFILE format) instead");
  return {};
}

static Result<StationConfig> StationConfigFrom(const toml::table& root, const std::string& path) {
  StationConfig c;
  c.path = path;
  Fields top(root, path, "");
  ST_RETURN_IF_ERROR(top.String("listen", c.listen));
  ST_RETURN_IF_ERROR(top.Path("state_dir", c.state_dir, true));

  const toml::table* token = top.Table("token");
  if (token == nullptr) return top.Missing("token");
  ST_RETURN_IF_ERROR(LoadToken(*token, path, c.token, c.issuance.pipeline.sign_timeout));

  const toml::table* ca = top.Table("ca");
  if (ca == nullptr) return top.Missing("ca");
  Fields fca(*ca, path, "ca");
  ST_RETURN_IF_ERROR(fca.String("key_uri", c.ca.key_uri, true));
  ST_RETURN_IF_ERROR(fca.Path("certificate", c.ca.certificate, true));
  ST_RETURN_IF_ERROR(fca.Path("root", c.ca.root));
  ST_RETURN_IF_ERROR(fca.NoUnknownKeys());

  const toml::table* tls = top.Table("tls");
  if (tls == nullptr) return top.Missing("tls");
  Fields ftls(*tls, path, "tls");
  ST_RETURN_IF_ERROR(ftls.Path("cert", c.tls.cert, true));
  ST_RETURN_IF_ERROR(ftls.Path("key", c.tls.key));
  ST_RETURN_IF_ERROR(ftls.String("key_credential", c.tls.key_credential));
  if (c.tls.key.empty() == c.tls.key_credential.empty())
    return ftls.Wrong("key", "set exactly one of tls.key (a file) and tls.key_credential (a systemd credential)");
  ST_RETURN_IF_ERROR(ftls.Path("client_ca", c.tls.client_ca, true));
  ST_RETURN_IF_ERROR(ftls.Path("crl", c.tls.crl));
  ST_RETURN_IF_ERROR(ftls.NoUnknownKeys());

  if (const toml::table* iss = top.Table("issuance")) {
    Fields f(*iss, path, "issuance");
    issuance::PipelineOptions& p = c.issuance.pipeline;
    ST_RETURN_IF_ERROR(f.Number("workers", p.workers, 0, 256));
    ST_RETURN_IF_ERROR(f.Number("signers", p.signers, 0, 1024));
    ST_RETURN_IF_ERROR(f.Number("queue_depth", p.queue_depth, 1, 1 << 20));
    ST_RETURN_IF_ERROR(f.Number("max_csr_bytes", p.max_csr_bytes, 256, 64 * 1024));
    ST_RETURN_IF_ERROR(f.Path("profiles_dir", c.issuance.profiles_dir));
    ST_RETURN_IF_ERROR(f.String("default_profile", p.default_profile));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  }
  if (const toml::table* lim = top.Table("limits")) {
    Fields f(*lim, path, "limits");
    ST_RETURN_IF_ERROR(f.Number("max_streams", c.limits.max_streams, 1, 10000));
    ST_RETURN_IF_ERROR(f.Number("max_streams_per_line", c.limits.max_streams_per_line, 1, 10000));
    ST_RETURN_IF_ERROR(f.Duration("handshake_timeout", c.limits.handshake_timeout_s, 1, 300));
    ST_RETURN_IF_ERROR(f.Number("max_inflight_per_stream", c.limits.max_inflight_per_stream, 1, 65536));
    ST_RETURN_IF_ERROR(f.Number("max_message_bytes", c.limits.max_message_bytes, 1024, 4 << 20));
    ST_RETURN_IF_ERROR(f.Duration("stream_idle_timeout", c.limits.stream_idle_timeout_s, 1, 86400));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  }
  if (const toml::table* audit = top.Table("audit")) {
    Fields f(*audit, path, "audit");
    audit::WriterOptions& w = c.audit.writer;
    ST_RETURN_IF_ERROR(f.Number("max_batch", w.max_batch, 1, 65536));
    int64_t commit_delay_ms = std::chrono::duration_cast<std::chrono::milliseconds>(w.commit_delay).count();
    ST_RETURN_IF_ERROR(f.Number("commit_delay_ms", commit_delay_ms, 0, 100));
    w.commit_delay = std::chrono::milliseconds(commit_delay_ms);
    ST_RETURN_IF_ERROR(f.String("key_uri", c.audit.key_uri));
    ST_RETURN_IF_ERROR(f.Path("public_key", c.audit.public_key));
    ST_RETURN_IF_ERROR(f.String("origin", c.audit.origin));
    ST_RETURN_IF_ERROR(f.Number("checkpoint_every", w.checkpoint_every, 1, 1 << 30));
    ST_RETURN_IF_ERROR(ReadDuration(f, "checkpoint_interval", w.checkpoint_interval, 1, 86400));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
    if (c.audit.key_uri.empty() != c.audit.origin.empty() || c.audit.key_uri.empty() != c.audit.public_key.empty())
      return f.Wrong("key_uri", "key_uri, public_key and origin go together (stationctl audit init-key prints them)");
  }
  if (const toml::table* officers = top.Table("officers")) ST_RETURN_IF_ERROR(LoadOfficers(*officers, path, c.officers));
  if (const toml::table* store = top.Table("store")) ST_RETURN_IF_ERROR(LoadStore(*store, path, c.store));
  if (const toml::table* metrics = top.Table("metrics")) {
    Fields f(*metrics, path, "metrics");
    ST_RETURN_IF_ERROR(f.String("listen", c.metrics.listen, true));
    ST_RETURN_IF_ERROR(f.NoUnknownKeys());
    const size_t colon = c.metrics.listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == c.metrics.listen.size())
      return f.Wrong("listen", "HOST:PORT, e.g. \"127.0.0.1:9464\"");
  }
  ST_RETURN_IF_ERROR(top.NoUnknownKeys());
  if (c.issuance.pipeline.max_csr_bytes + 1024 > c.limits.max_message_bytes)
    return top.Wrong("limits.max_message_bytes", "must exceed issuance.max_csr_bytes by at least 1024");
  return c;
}

static Result<LineConfig> LineConfigFrom(const toml::table& root, const std::string& path) {
  LineConfig c;
  c.path = path;
  Fields top(root, path, "");
  ST_RETURN_IF_ERROR(top.String("target", c.target, true));
  ST_RETURN_IF_ERROR(top.Number("deadline_seconds", c.deadline_seconds, 1, 3600));
  const toml::table* tls = top.Table("tls");
  if (tls == nullptr) return top.Missing("tls");
  Fields f(*tls, path, "tls");
  ST_RETURN_IF_ERROR(f.Path("ca", c.ca, true));
  ST_RETURN_IF_ERROR(f.Path("cert", c.cert, true));
  ST_RETURN_IF_ERROR(f.Path("key", c.key, true));
  ST_RETURN_IF_ERROR(f.String("server_name", c.server_name));
  ST_RETURN_IF_ERROR(f.NoUnknownKeys());
  ST_RETURN_IF_ERROR(top.NoUnknownKeys());
  return c;
}

void ApplyTokenEnvironment(const TokenConfig& token) {
  for (const auto& [key, value] : token.env) ::setenv(key.c_str(), value.c_str(), 1);
}

Result<StationConfig> LoadStationConfig(const std::string& path) {
  ST_ASSIGN_OR_RETURN(toml::table root, ParseToml(path));
  return StationConfigFrom(root, path);
}

Result<StationConfig> ParseStationConfig(std::string_view text, const std::string& path) {
  ST_ASSIGN_OR_RETURN(toml::table root, ParseTomlText(text, path));
  return StationConfigFrom(root, path);
}

Result<LineConfig> LoadLineConfig(const std::string& path) {
  ST_ASSIGN_OR_RETURN(toml::table root, ParseToml(path));
  return LineConfigFrom(root, path);
}

Result<LineConfig> ParseLineConfig(std::string_view text, const std::string& path) {
  ST_ASSIGN_OR_RETURN(toml::table root, ParseTomlText(text, path));
  return LineConfigFrom(root, path);
}

Result<std::string> TlsKeyPath(const TlsConfig& tls) {
  if (tls.key_credential.empty()) return tls.key;
  return hsm::CredentialPath(tls.key_credential, "TLS key credential " + tls.key_credential);
}

}  // namespace station::config
