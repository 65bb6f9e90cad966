// What officers do to a running station: stage a CA, and approve the actions
// that need k of the n configured officers (activate or retire a CA, let a
// device have one more certificate, change who may use a profile). Each call is one officer record in the
// audit log, durable with its effect (the CA set, the approvals) before the
// call returns; the pipeline sees a CA change only after that.
//
// Calls are taken one at a time (they are rare); none holds a lock the
// signing path takes, except the issuer's own for a moment.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "hsm/token.h"
#include "station/audit/writer.h"
#include "station/config/config.h"
#include "station/issuance/certificate_profile.h"
#include "station/issuance/issuer.h"

namespace station::officer {

// A CA is named by its key's label or its key identifier (hex), within an
// issuer (which may be left empty when only one issuer holds that CA).
struct CaRef {
  std::string issuer;
  std::string ca;
};

struct ActivateCa {
  CaRef ref;
  int64_t at_unix_ms = 0;  // 0: as soon as approved
};
struct RetireCa {
  CaRef ref;
};
struct ReissueDevice {
  std::string profile;
  std::string device_id;
  int64_t ttl_s = 86400;  // how long the approved reissue may wait for its request
};
struct SetProfileLines {
  std::string profile;
  policy::LineSet lines;  // the whole new set
};
using Action = std::variant<ActivateCa, RetireCa, ReissueDevice, SetProfileLines>;

struct ApprovalStatus {
  std::string action;                  // "ca.activate", "ca.retire", "device.reissue", "profile.lines"
  std::vector<std::string> approvers;  // live approvals of this action, this one included
  size_t required = 0;
  bool executed = false;               // this approval was the k-th: the action happened
  std::string note;                    // what happened, for the officer
  uint64_t audit_seq = 0;
};

struct CaView {
  std::string issuer;
  std::shared_ptr<const issuance::CertificateAuthority> ca;
  issuance::CaState state = issuance::CaState::kStaged;
  int64_t activate_at_unix_ms = 0;
};

struct StagedCa {
  CaView ca;
  uint64_t audit_seq = 0;
};

class OfficerDesk {
 public:
  // `client_ca_pem`: the station's [tls] client_ca, which no staged CA may
  // share a chain with (client_ca_apart.h); empty for none.
  OfficerDesk(config::OfficersConfig officers, std::string root_pem_path, std::string client_ca_pem,
              std::vector<issuance::Issuer*> issuers,
              std::vector<issuance::CertificateProfile*> profiles, std::shared_ptr<hsm::Token> token,
              audit::AuditWriter& writer);

  // Every CA of every issuer (or of one).
  Result<std::vector<CaView>> ListCas(const std::string& officer, const std::string& issuer);

  // Every profile, with the lines that may use it now.
  Result<std::vector<const issuance::CertificateProfile*>> ListProfiles(const std::string& officer) const;

  // Adds the CA of token key `key_label` with `certificate_pem` to an issuer
  // as staged, after the checks any CA gets (key attributes, certificate for
  // that key, CA:TRUE, chain to [ca] root, no chain shared with [tls]
  // client_ca). It signs nothing until activated.
  Result<StagedCa> StageCa(const std::string& officer, const std::string& issuer, const std::string& key_label,
                           const std::string& certificate_pem);

  // One officer's approval of `action`; the k-th distinct live approval
  // carries it out.
  Result<ApprovalStatus> Approve(const std::string& officer, const Action& action);

  // On a shared store: brings the CA sets and the profiles' lines up to what
  // the fleet's officers left in the store, when an officer record of any
  // station committed since the last look (store::Store::OfficerVersion).
  // Taken between officer calls, so it never undoes one of this station's.
  // Answers whether anything was read anew.
  Result<bool> FollowFleet(store::Store& store);
  // The officer version the CA sets and line sets were restored at, at start.
  void FollowFleetFrom(uint64_t version);

 private:
  struct Resolved {
    issuance::Issuer* issuer = nullptr;
    std::shared_ptr<const issuance::CertificateAuthority> ca;
    issuance::CaState state = issuance::CaState::kStaged;
  };
  // An action made ready for approval: its record, the text approvals must
  // agree on, and what carrying it out does.
  struct Plan {
    audit::AuditRecord draft;  // action, profile, device_id, issuer_key_id
    std::string key;           // the action in canonical text
    std::string details;       // the action's own fields, JSON members for the record
    // Carrying it out: in the record's transaction (committing `record` to
    // the rows it writes, audit/state.h), then in memory once durable.
    // `approved_by` names the officers who let it happen.
    std::function<Status(store::Changes&, audit::AuditRecord& record, const std::string& approved_by)> write;
    std::function<Result<std::string>(const audit::AuditRecord&)> apply;  // what happened, for the officer
  };
  Result<Plan> PlanFor(const ReissueDevice& action) const;
  Result<Plan> PlanFor(const ActivateCa& action) const;
  Result<Plan> PlanFor(const RetireCa& action) const;
  Result<Plan> PlanFor(const SetProfileLines& action) const;
  Result<Plan> PlanCaChange(const CaRef& ref, bool activate, int64_t at_unix_ms) const;

  Result<issuance::CertificateProfile*> FindProfile(const std::string& name) const;
  Result<issuance::Issuer*> FindIssuer(const std::string& name) const;
  // OK for "" (every issuer), else ISSUER_NOT_FOUND unless the station has it.
  Status CheckIssuerFilter(const std::string& name) const;
  Result<Resolved> Resolve(const CaRef& ref) const;

  const config::OfficersConfig officers_;
  const std::string root_pem_path_;
  const std::string client_ca_pem_;
  const std::vector<issuance::Issuer*> issuers_;
  const std::vector<issuance::CertificateProfile*> profiles_;
  const std::shared_ptr<hsm::Token> token_;
  audit::AuditWriter& writer_;
  std::mutex mu_;  // one officer call at a time
  uint64_t officer_version_ = 0;  // guarded by mu_: the store's, when FollowFleet last read it
};

}  // namespace station::officer
