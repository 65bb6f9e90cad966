#include "station/runtime/station.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "station/base/duration.h"
#include "station/base/files.h"
#include "station/base/log.h"
#include "station/officer/ca_set.h"
#include "station/officer/client_ca_apart.h"
#include "station/officer/profile_lines.h"
#include "station/policy/profile_file.h"
#include "station/runtime/audit_signer.h"
#include "station/runtime/open_store.h"

namespace station::runtime {

Result<std::shared_ptr<hsm::Token>> OpenToken(const config::TokenConfig& token, size_t sessions) {
  // A token another process is writing can be missing for a moment: SoftHSM
  // rewrites its token file at every login, and a module that reads the
  // token's files then does not list it, or lists it without its PINs. Look
  // again a few times, each with the module loaded afresh, before calling the
  // token absent or broken. A refused PIN is never offered again.
  constexpr int kLooks = 5;
  constexpr auto kPause = std::chrono::milliseconds(200);
  config::ApplyTokenEnvironment(token);
  ST_ASSIGN_OR_RETURN(auto token_uri, hsm::ParsePkcs11Uri(token.uri));
  hsm::TokenOptions options;
  options.max_sessions = sessions;
  for (int look = 1;; ++look) {
    ST_ASSIGN_OR_RETURN(auto module, hsm::Module::Load(token.module));
    ST_ASSIGN_OR_RETURN(auto read_pin, hsm::PinReaderFor(token.pin));
    auto opened = hsm::Token::Open(module, token_uri, std::move(read_pin), options);
    // Loaded afresh only when nothing else in this process holds the module.
    const bool fresh_look_possible = module.use_count() == 1;
    const bool passing = !opened.ok() && (opened.error().reason == "TOKEN_NOT_FOUND" ||
                                          opened.error().reason == "TOKEN_ERROR" ||
                                          opened.error().reason == "TOKEN_UNAVAILABLE");
    if (!passing || look == kLooks || !fresh_look_possible) return opened;
    module.reset();
    std::this_thread::sleep_for(kPause);
  }
}

Result<std::shared_ptr<hsm::TokenKey>> OpenTokenKey(const config::TokenConfig& token, const std::string& key_uri,
                                                    size_t sessions) {
  ST_ASSIGN_OR_RETURN(auto parsed_key_uri, hsm::ParsePkcs11Uri(key_uri));
  ST_ASSIGN_OR_RETURN(auto opened, OpenToken(token, sessions));
  return hsm::TokenKey::Find(std::move(opened), parsed_key_uri);
}

Result<std::vector<policy::Profile>> LoadProfiles(const config::StationConfig& config) {
  if (config.issuance.profiles_dir.empty())
    return MakeError(Code::kFailedPrecondition, "BAD_CONFIG",
                     "[issuance] profiles_dir is not set; a station serves only the profiles written there "
                     "(docs/profiles.md)");
  return policy::LoadProfileDir(config.issuance.profiles_dir);
}

Result<std::vector<std::string>> CaCertificateFiles(const config::StationConfig& config) {
  std::vector<std::string> files{config.ca.certificate};
  ST_ASSIGN_OR_RETURN(auto profiles, LoadProfiles(config));
  for (const auto& profile : profiles)
    if (!profile.ca_certificate.empty()) files.push_back(profile.ca_certificate);
  return files;
}

namespace {

// One issuer per (key, certificate) pair, shared by the profiles that issue
// under it; named by the label of its first CA's key. Every key lives in the
// station's token, and every CA chains to [ca] root when that is set.
class IssuerLoader {
 public:
  IssuerLoader(std::shared_ptr<hsm::Token> token, const config::CaConfig& station_ca)
      : token_(std::move(token)), station_ca_(station_ca) {}

  Result<std::shared_ptr<issuance::Issuer>> For(const policy::Profile& profile) {
    std::string key_uri = profile.ca_key_uri.empty() ? station_ca_.key_uri : profile.ca_key_uri;
    std::string cert = profile.ca_certificate.empty() ? station_ca_.certificate : profile.ca_certificate;
    return Load(key_uri, cert, "profile '" + profile.name + "' (" + profile.file + "): CA: ");
  }
  Result<std::shared_ptr<issuance::Issuer>> ForStation() {
    return Load(station_ca_.key_uri, station_ca_.certificate, "[ca]: ");
  }

 private:
  Result<std::shared_ptr<issuance::Issuer>> Load(const std::string& key_uri, const std::string& cert,
                                                 const std::string& who) {
    auto& slot = loaded_[key_uri + "\n" + cert];
    if (slot) return slot;
    auto where = [&](const Error& e) {
      Error out = e;
      out.message = who + e.message;
      return out;
    };
    auto uri = hsm::ParsePkcs11Uri(key_uri);
    if (!uri.ok()) return where(uri.error());
    auto key = hsm::TokenKey::Find(token_, *uri);
    if (!key.ok()) return where(key.error());
    std::string label = (*key)->label();
    auto ca = issuance::CertificateAuthority::Load(std::move(*key), cert, station_ca_.root);
    if (!ca.ok()) return where(ca.error());
    slot = std::make_shared<issuance::Issuer>(label, std::move(*ca));
    return slot;
  }

  std::shared_ptr<hsm::Token> token_;
  const config::CaConfig& station_ca_;
  std::map<std::string, std::shared_ptr<issuance::Issuer>> loaded_;
};

// A claim signed by a CA registered for JITR would be activated as a device:
// no CA of a claim profile's issuer may be one of a JITR profile's.
Status CheckClaimCasApart(const std::vector<issuance::CertificateProfile*>& profiles) {
  std::map<std::string, std::string> jitr;  // CA key id -> profile
  for (const issuance::CertificateProfile* p : profiles)
    if (p->profile().aws_jitr)
      for (const auto& status : p->issuer().List()) jitr.emplace(status.ca->key_id_hex(), p->profile().name);
  for (const issuance::CertificateProfile* p : profiles) {
    if (!p->profile().aws_claim) continue;
    for (const auto& status : p->issuer().List())
      if (auto it = jitr.find(status.ca->key_id_hex()); it != jitr.end())
        return MakeError(Code::kFailedPrecondition, "CLAIM_CA_SHARED",
                         "claim profile '" + p->profile().name + "' and JITR profile '" + it->second +
                             "' issue under one CA (key id " + it->first + "): give the claims a CA of their own "
                             "(docs/aws.md)");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Station>> Station::Open(const config::StationConfig& config) {
  if (::mkdir(config.state_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return MakeError(Code::kFailedPrecondition, "STATE_DIR_UNUSABLE",
                     "cannot create state directory " + config.state_dir + ": " + std::strerror(errno));
  ST_ASSIGN_OR_RETURN(std::vector<policy::Profile> profiles, LoadProfiles(config));
  std::unique_ptr<Station> s(new Station());
  ST_ASSIGN_OR_RETURN(auto token, OpenToken(config.token, config.session_count()));
  IssuerLoader issuers(token, config.ca);
  ST_ASSIGN_OR_RETURN(auto station_issuer, issuers.ForStation());
  std::vector<std::unique_ptr<issuance::CertificateProfile>> ready;
  for (auto& profile : profiles) {
    ST_ASSIGN_OR_RETURN(auto issuer, issuers.For(profile));
    ST_ASSIGN_OR_RETURN(auto compiled, issuance::CertificateProfile::Create(std::move(profile), std::move(issuer)));
    ready.push_back(std::move(compiled));
  }
  audit::WriterOptions audit_options = config.audit.writer;
  ST_ASSIGN_OR_RETURN(audit_options.signer, OpenAuditSigner(token, config.audit));
  ST_ASSIGN_OR_RETURN(s->store_, OpenStore(config, {.durable = !config.audit.bench_undurable}));
  // Lot imports cut off by a stop left their staged ids behind.
  ST_RETURN_IF_ERROR(s->store_->DropLotUpload(""));
  ST_ASSIGN_OR_RETURN(s->writer_, audit::AuditWriter::Open(s->store_, std::move(audit_options)));
  ST_ASSIGN_OR_RETURN(s->pipeline_,
                      issuance::Pipeline::Create(config.issuance.pipeline, std::move(ready), std::move(station_issuer),
                                                 s->writer_.get(), s->store_.get()));
  // Rotations officers made outlive a restart: they override the config's seed.
  // Read before the CA sets and line sets are: what the watcher follows the fleet from.
  ST_ASSIGN_OR_RETURN(const uint64_t officer_version, s->store_->OfficerVersion());
  ST_RETURN_IF_ERROR(officer::RestoreCaSets(*s->store_, s->pipeline_->issuers(), token, config.ca.root));
  if (!s->pipeline_->issuer().Active())
    return MakeError(Code::kFailedPrecondition, "CA_RETIRED",
                     "officers retired every CA of the station's issuer '" + s->pipeline_->issuer().name() +
                         "' without activating a successor; set [ca] to a new CA key and certificate "
                         "(stationctl ca init, ca import-cert)");
  ST_RETURN_IF_ERROR(officer::RestoreProfileLines(*s->store_, s->pipeline_->profiles()));
  // A device certificate must never be a station credential (client_ca_apart.h).
  std::string client_ca_pem;
  if (!config.tls.client_ca.empty()) {
    ST_ASSIGN_OR_RETURN(client_ca_pem, base::ReadFile(config.tls.client_ca));
  }
  std::vector<const issuance::CertificateAuthority*> cas;
  for (issuance::Issuer* issuer : s->pipeline_->issuers())
    for (const auto& status : issuer->List()) cas.push_back(status.ca.get());
  ST_RETURN_IF_ERROR(officer::CheckClientCaApart(client_ca_pem, cas));
  ST_RETURN_IF_ERROR(CheckClaimCasApart(s->pipeline_->profiles()));
  s->desk_ = std::make_unique<officer::OfficerDesk>(config.officers, config.ca.root, client_ca_pem,
                                                    s->pipeline_->issuers(),
                                                    s->pipeline_->profiles(), token, *s->writer_);
  auto profiles_now = s->pipeline_->profiles();
  s->registry_desk_ = std::make_unique<officer::RegistryDesk>(
      config.officers, std::vector<const issuance::CertificateProfile*>(profiles_now.begin(), profiles_now.end()),
      s->store_, *s->writer_);
  s->token_ = token;
  s->shared_store_ = config.store.shared();
  s->desk_->FollowFleetFrom(officer_version);
  s->watcher_ = std::thread([station = s.get()] { station->Watch(); });
  return s;
}

Station::~Station() { Shutdown(); }

void Station::Note(std::optional<Error>& last, const Status& now, const char* what) {
  std::lock_guard<std::mutex> lock(watch_mu_);
  if (!now.ok() && !last) base::LogError(std::string(what) + " unavailable: " + now.error().ToString());
  if (now.ok() && last) base::LogInfo(std::string(what) + " available again");
  last = now.ok() ? std::nullopt : std::optional<Error>(now.error());
}

bool Station::token_up() const {
  std::lock_guard<std::mutex> lock(watch_mu_);
  return !token_problem_.has_value();
}

std::map<std::string, uint64_t> Station::unused_codes() const {
  std::lock_guard<std::mutex> lock(watch_mu_);
  return unused_codes_;
}

void Station::Watch() {
  constexpr auto kInterval = std::chrono::seconds(1);
  constexpr int kCodesEvery = 30;  // intervals between counts of unused codes
  std::unique_lock<std::mutex> lock(watch_mu_);
  for (int tick = 0; !watch_cv_.wait_for(lock, tick == 0 ? std::chrono::seconds(0) : kInterval,
                                         [this] { return stopping_; });
       ++tick) {
    lock.unlock();
    if (tick % kCodesEvery == 0) {
      auto codes = store_->UnusedCodes(base::NowUnixMs());
      std::lock_guard<std::mutex> relock(watch_mu_);
      if (codes.ok()) unused_codes_ = std::move(*codes);
    }
    Note(token_problem_, token_->Probe(), "the token");
    if (shared_store_) {
      auto followed = desk_->FollowFleet(*store_);
      if (followed.ok() && *followed)
        base::LogInfo("CA sets and profile lines read anew: an officer record of the fleet committed");
      // Unreachable, or a fleet CA this station cannot load (its token lacks the key, say).
      const bool away = !followed.ok() && followed.error().reason == "STORE_UNAVAILABLE";
      Note(store_problem_, followed.ok() ? Status() : Status(followed.error()),
           followed.ok() || away ? "the shared store" : "the fleet's CA set");
    }
    lock.lock();
  }
}

Status Station::Readiness() const {
  ST_RETURN_IF_ERROR(pipeline_->TokenReady());
  std::lock_guard<std::mutex> lock(watch_mu_);
  if (stopping_) return MakeError(Code::kUnavailable, "SHUTTING_DOWN", "the station is shutting down");
  if (token_problem_) return *token_problem_;
  if (store_problem_) return *store_problem_;
  return {};
}

void Station::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    stopping_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  if (pipeline_) pipeline_->Shutdown();
  if (writer_) writer_->Stop();
}

}  // namespace station::runtime
