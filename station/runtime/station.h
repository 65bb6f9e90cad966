// Everything a running station is made of, opened from its config: the token
// and its CA keys, the issuance profiles with their CA certificates, the
// audit log, and the issuance pipeline. The server wraps this in gRPC; tests
// and tools use it directly.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "hsm/key.h"
#include "station/audit/writer.h"
#include "station/config/config.h"
#include "station/issuance/pipeline.h"
#include "station/officer/desk.h"
#include "station/officer/registry_desk.h"
#include "station/policy/profile.h"
#include "station/store/store.h"

namespace station::runtime {

// Loads the module named in the config (after setting its environment),
// reads the PIN and logs in, with a session pool of `sessions`.
Result<std::shared_ptr<hsm::Token>> OpenToken(const config::TokenConfig& token, size_t sessions);

// OpenToken, then the key named by `key_uri` in that token.
Result<std::shared_ptr<hsm::TokenKey>> OpenTokenKey(const config::TokenConfig& token, const std::string& key_uri,
                                                    size_t sessions);

// The profiles a station config names: every file of issuance.profiles_dir
// (BAD_CONFIG when it names none).
Result<std::vector<policy::Profile>> LoadProfiles(const config::StationConfig& config);
// The CA certificate files the config names: [ca]'s, then each profile's own.
Result<std::vector<std::string>> CaCertificateFiles(const config::StationConfig& config);

class Station {
 public:
  static Result<std::unique_ptr<Station>> Open(const config::StationConfig& config);
  ~Station();  // Shutdown()s

  issuance::Pipeline& pipeline() noexcept { return *pipeline_; }
  // The station's [ca] issuer, and its active CA (null once retired with no
  // successor while running; a station does not start so).
  issuance::Issuer& issuer() const noexcept { return pipeline_->issuer(); }
  std::shared_ptr<const issuance::CertificateAuthority> ca() const { return pipeline_->issuer().Active(); }
  officer::OfficerDesk& officer_desk() noexcept { return *desk_; }
  officer::RegistryDesk& registry_desk() noexcept { return *registry_desk_; }
  store::Store& store() noexcept { return *store_; }
  uint64_t audit_last_seq() const { return writer_->last_seq(); }
  uint64_t audit_commits() const { return writer_->commits(); }
  const audit::AuditWriter& audit_writer() const noexcept { return *writer_; }

  // What /metrics reads, as the watcher last saw it: never a call into the
  // token or the store on the scrape's thread.
  bool token_up() const;
  // Registration codes neither used nor expired, by profile (read every 30 s).
  std::map<std::string, uint64_t> unused_codes() const;

  // Whether the station can issue now, and if not, why: issuance halted,
  // every signer stuck, the token not answering (Token::Probe) or the shared
  // store unreachable, as the watcher last saw them (once a second). What
  // the gRPC health service reports.
  Status Readiness() const;

  // Finishes queued requests, then makes the audit log durable and closes it.
  void Shutdown();

 private:
  Station() = default;
  // Once a second: probes the token; on a shared store, looks at the store
  // and brings in what officers changed at any station (OfficerDesk::
  // FollowFleet), so it is in force here within about a second, with no restart.
  void Watch();
  // Notes the outcome of one look at `what`, logging each change.
  void Note(std::optional<Error>& last, const Status& now, const char* what);

  std::shared_ptr<hsm::Token> token_;
  bool shared_store_ = false;
  std::shared_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditWriter> writer_;
  std::unique_ptr<issuance::Pipeline> pipeline_;
  std::unique_ptr<officer::OfficerDesk> desk_;
  std::unique_ptr<officer::RegistryDesk> registry_desk_;
  std::thread watcher_;
  mutable std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool stopping_ = false;               // guarded by watch_mu_
  std::optional<Error> token_problem_;  // guarded by watch_mu_
  std::optional<Error> store_problem_;  // guarded by watch_mu_
  std::map<std::string, uint64_t> unused_codes_;  // guarded by watch_mu_
};

}  // namespace station::runtime
