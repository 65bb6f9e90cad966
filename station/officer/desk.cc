#include "station/officer/desk.h"

#include <algorithm>

#include "hsm/uri.h"
#include "station/audit/state.h"
#include "station/base/text.h"
#include "station/issuance/request.h"
#include "station/officer/ca_set.h"
#include "station/officer/client_ca_apart.h"
#include "station/officer/officer_log.h"
#include "station/officer/profile_lines.h"
#include "station/pki/cert_builder.h"
#include "station/policy/profile.h"
#include "station/policy/request_rules.h"
#include "station/registry/registry_admin.h"

namespace station::officer {
namespace {

using issuance::CaState;

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// The rows of an issuer after `key_id` is activated now (or scheduled) or retired.
std::vector<StoredCa> Planned(std::vector<StoredCa> rows, const std::string& key_id, CaState to, int64_t at_unix_ms) {
  for (StoredCa& row : rows) {
    if (row.key_id == key_id) {
      row.state = to;
      row.activate_at_unix_ms = to == CaState::kStaged ? at_unix_ms : 0;
    } else if (to == CaState::kActive && row.state == CaState::kActive) {
      row.state = CaState::kPrevious;
    }
  }
  return rows;
}

}  // namespace

OfficerDesk::OfficerDesk(config::OfficersConfig officers, std::string root_pem_path, std::string client_ca_pem,
                         std::vector<issuance::Issuer*> issuers, std::vector<issuance::CertificateProfile*> profiles,
                         std::shared_ptr<hsm::Token> token, audit::AuditWriter& writer)
    : officers_(std::move(officers)),
      root_pem_path_(std::move(root_pem_path)),
      client_ca_pem_(std::move(client_ca_pem)),
      issuers_(std::move(issuers)),
      profiles_(std::move(profiles)),
      token_(std::move(token)),
      writer_(writer) {}

Result<issuance::CertificateProfile*> OfficerDesk::FindProfile(const std::string& name) const {
  for (issuance::CertificateProfile* profile : profiles_)
    if (profile->profile().name == name) return profile;
  return MakeError(Code::kNotFound, "PROFILE_NOT_FOUND", "the station has no profile '" + name + "'");
}

Result<issuance::Issuer*> OfficerDesk::FindIssuer(const std::string& name) const {
  for (issuance::Issuer* issuer : issuers_)
    if (issuer->name() == name) return issuer;
  std::vector<std::string> names;
  for (issuance::Issuer* issuer : issuers_) names.push_back(issuer->name());
  return MakeError(Code::kNotFound, "ISSUER_NOT_FOUND",
                   "the station has no issuer '" + name + "' (it has: " + Join(names, ", ") + ")");
}

Status OfficerDesk::CheckIssuerFilter(const std::string& name) const {
  if (name.empty()) return {};
  auto found = FindIssuer(name);
  if (!found.ok()) return found.error();
  return {};
}

Result<OfficerDesk::Resolved> OfficerDesk::Resolve(const CaRef& ref) const {
  ST_RETURN_IF_ERROR(CheckIssuerFilter(ref.issuer));
  std::vector<Resolved> found;
  for (issuance::Issuer* issuer : issuers_) {
    if (!ref.issuer.empty() && issuer->name() != ref.issuer) continue;
    for (const auto& status : issuer->List())
      if (status.ca->key_id_hex() == ref.ca || status.ca->token_key().label() == ref.ca)
        found.push_back({issuer, status.ca, status.state});
  }
  if (found.empty())
    return MakeError(Code::kNotFound, "CA_NOT_FOUND",
                     "no CA with key label or key identifier '" + ref.ca + "'" +
                         (ref.issuer.empty() ? "" : " in issuer '" + ref.issuer + "'") + " (stationctl ca list)");
  if (found.size() > 1)
    return MakeError(Code::kFailedPrecondition, "CA_AMBIGUOUS",
                     "'" + ref.ca + "' names a CA of more than one issuer; name the issuer too");
  return found.front();
}

Result<std::vector<CaView>> OfficerDesk::ListCas(const std::string& officer, const std::string& issuer_name) {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  ST_RETURN_IF_ERROR(CheckIssuerFilter(issuer_name));
  std::vector<CaView> out;
  for (issuance::Issuer* issuer : issuers_) {
    if (!issuer_name.empty() && issuer->name() != issuer_name) continue;
    for (const auto& status : issuer->List())
      out.push_back({issuer->name(), status.ca, status.state, status.activate_at_unix_ms});
  }
  return out;
}

Result<std::vector<const issuance::CertificateProfile*>> OfficerDesk::ListProfiles(const std::string& officer) const {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  return std::vector<const issuance::CertificateProfile*>(profiles_.begin(), profiles_.end());
}

Result<StagedCa> OfficerDesk::StageCa(const std::string& officer, const std::string& issuer_name,
                                      const std::string& key_label, const std::string& certificate_pem) {
  std::lock_guard<std::mutex> lock(mu_);
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  ST_ASSIGN_OR_RETURN(issuance::Issuer * issuer, FindIssuer(issuer_name));
  if (key_label.empty() || key_label.size() > 128)
    return MakeError(Code::kInvalidArgument, "USAGE", "name the CA key by its label (1 to 128 characters)");
  if (certificate_pem.empty() || certificate_pem.size() > 256 * 1024)
    return MakeError(Code::kInvalidArgument, "USAGE", "the CA certificate PEM must be 1 byte to 256 KiB");
  const std::string key_uri = hsm::PrivateKeyUri(token_->label(), key_label).ToString();
  ST_ASSIGN_OR_RETURN(auto ca, LoadCa(token_, key_uri, certificate_pem, root_pem_path_));
  ST_RETURN_IF_ERROR(CheckClientCaApart(client_ca_pem_, {ca.get()}));
  const std::string key_id = ca->key_id_hex();
  if (issuer->Find(key_id))
    return MakeError(Code::kAlreadyExists, "CA_EXISTS",
                     "issuer '" + issuer->name() + "' already has the CA with key identifier " + key_id);

  audit::AuditRecord draft;
  draft.caller = officer;
  draft.action = "ca.stage";
  draft.profile = issuer->name();
  draft.issuer_key_id = key_id;
  draft.detail = JsonObject({{"key_uri", key_uri},
                                    {"subject", pki::NameText(X509_get_subject_name(ca->cert()))},
                                    {"certificate_sha256", Hex(Sha256(ca->chain_der().front()))}});
  std::vector<StoredCa> rows = Snapshot(*issuer);
  rows.push_back({issuer->name(), key_id, key_uri, ca->chain_pem(), CaState::kStaged, 0});
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record,
                      RecordAction(writer_, std::move(draft), [&](store::Changes& changes, audit::AuditRecord& r) -> Status {
                        ST_RETURN_IF_ERROR(WriteCaSet(changes, issuer->name(), rows, r.seq));
                        return audit::CommitState(changes, audit::StateTable::kCaSet, issuer->name(), r);
                      }));
  ST_RETURN_IF_ERROR(issuer->Stage(ca));
  return StagedCa{{issuer->name(), ca, CaState::kStaged, 0}, record.seq};
}

Result<OfficerDesk::Plan> OfficerDesk::PlanFor(const ReissueDevice& action) const {
  if (auto found = FindProfile(action.profile); !found.ok()) return found.error();
  const std::string& id = action.device_id;
  if (!policy::ValidDeviceId(id))
    return MakeError(Code::kInvalidArgument, "DEVICE_ID_INVALID", "device ids have 1 to 64 printable characters");
  if (action.ttl_s < 60 || action.ttl_s > 30 * 86400)
    return MakeError(Code::kInvalidArgument, "USAGE", "a reissue approval lasts from 1 minute to 30 days");
  Plan plan;
  plan.draft.action = "device.reissue";
  plan.draft.profile = action.profile;
  plan.draft.device_id = action.device_id;
  plan.key = plan.draft.action + "\nprofile=" + action.profile + "\ndevice_id=" + action.device_id + "\nttl_s=" +
             std::to_string(action.ttl_s);
  plan.details = "\"ttl_s\":" + std::to_string(action.ttl_s);
  plan.write = [action](store::Changes& changes, audit::AuditRecord& r, const std::string& approved_by) -> Status {
    ST_RETURN_IF_ERROR(changes.AddReissueApproval(action.profile, action.device_id, approved_by, r.time_unix_ms,
                                                  action.ttl_s, r.seq));
    return audit::CommitState(changes, audit::StateTable::kReissueApproval, std::to_string(r.seq), r);
  };
  plan.apply = [action](const audit::AuditRecord&) -> Result<std::string> {
    return "device '" + action.device_id + "' may have one more certificate of profile '" + action.profile + "'";
  };
  return plan;
}

Result<OfficerDesk::Plan> OfficerDesk::PlanFor(const ActivateCa& action) const {
  return PlanCaChange(action.ref, true, action.at_unix_ms);
}

Result<OfficerDesk::Plan> OfficerDesk::PlanFor(const RetireCa& action) const {
  return PlanCaChange(action.ref, false, 0);
}

Result<OfficerDesk::Plan> OfficerDesk::PlanCaChange(const CaRef& ref, bool activate, int64_t at) const {
  ST_ASSIGN_OR_RETURN(Resolved target, Resolve(ref));
  const std::string key_id = target.ca->key_id_hex();
  if (activate && target.state != CaState::kStaged)
    return MakeError(Code::kFailedPrecondition, "CA_NOT_STAGED",
                     "CA " + key_id + " is " + issuance::CaStateName(target.state) +
                         "; only a staged CA can be activated");
  if (!activate && target.state == CaState::kRetired)
    return MakeError(Code::kFailedPrecondition, "CA_RETIRED", "CA " + key_id + " is already retired");
  Plan plan;
  plan.draft.action = activate ? "ca.activate" : "ca.retire";
  plan.draft.profile = target.issuer->name();
  plan.draft.issuer_key_id = key_id;
  plan.key = plan.draft.action + "\nissuer=" + plan.draft.profile + "\nkey_id=" + key_id +
             "\nat_unix_ms=" + std::to_string(at);
  plan.details = "\"at_unix_ms\":" + std::to_string(at);
  issuance::Issuer* issuer = target.issuer;
  plan.write = [issuer, key_id, activate, at](store::Changes& changes, audit::AuditRecord& r, const std::string&) -> Status {
    CaState to = CaState::kRetired;
    if (activate) to = at > r.time_unix_ms ? CaState::kStaged : CaState::kActive;
    ST_RETURN_IF_ERROR(WriteCaSet(changes, issuer->name(), Planned(Snapshot(*issuer), key_id, to, at), r.seq));
    return audit::CommitState(changes, audit::StateTable::kCaSet, issuer->name(), r);
  };
  plan.apply = [issuer, key_id, activate, at](const audit::AuditRecord& r) -> Result<std::string> {
    if (activate) {
      ST_RETURN_IF_ERROR(issuer->Activate(key_id, at));
      return "CA " + key_id +
             (at > r.time_unix_ms ? " activates at its set time" : " is active: new certificates are signed with it");
    }
    Status retired = issuer->Retire(key_id);
    if (!retired.ok()) return retired.error().message;
    return "CA " + key_id + " is retired: nothing more is signed with it";
  };
  return plan;
}

Result<OfficerDesk::Plan> OfficerDesk::PlanFor(const SetProfileLines& action) const {
  ST_ASSIGN_OR_RETURN(issuance::CertificateProfile * profile, FindProfile(action.profile));
  if (std::string problem = policy::LineSetProblem(action.lines); !problem.empty())
    return MakeError(Code::kInvalidArgument, "LINES_INVALID", problem);
  const policy::LineSet before = *profile->lines();
  if (before == action.lines)
    return MakeError(Code::kFailedPrecondition, "LINES_UNCHANGED",
                     "profile '" + action.profile + "' already has exactly these lines");
  const std::vector<std::string> after(action.lines.begin(), action.lines.end());
  Plan plan;
  plan.draft.action = "profile.lines";
  plan.draft.profile = action.profile;
  plan.key = plan.draft.action + "\nprofile=" + action.profile + "\nlines=" + Join(after, "\n");
  plan.details = "\"lines\":" + JsonList(after) + ",\"previous\":" + JsonList({before.begin(), before.end()});
  plan.write = [action](store::Changes& changes, audit::AuditRecord& r, const std::string&) -> Status {
    ST_RETURN_IF_ERROR(WriteProfileLines(changes, action.profile, action.lines, r.seq));
    return audit::CommitState(changes, audit::StateTable::kProfileLines, action.profile, r);
  };
  plan.apply = [profile, action, after](const audit::AuditRecord&) -> Result<std::string> {
    profile->SetLines(action.lines);
    return "profile '" + action.profile + "' may now be used by: " + Join(after, ", ");
  };
  return plan;
}

Result<ApprovalStatus> OfficerDesk::Approve(const std::string& officer, const Action& action) {
  std::lock_guard<std::mutex> lock(mu_);
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  ST_ASSIGN_OR_RETURN(Plan plan, std::visit([this](const auto& a) { return PlanFor(a); }, action));
  plan.draft.caller = officer;

  ApprovalStatus status;
  status.action = plan.draft.action;
  status.required = officers_.approvals_required;
  auto effect = [&](store::Changes& changes, audit::AuditRecord& r) -> Status {
    ST_ASSIGN_OR_RETURN(status.approvers,
                        changes.AddApproval(plan.key, officer, r.time_unix_ms, officers_.approval_ttl_s, r.seq));
    status.executed = status.approvers.size() >= status.required;
    r.detail = "{" + plan.details + ",\"approvers\":" + JsonList(status.approvers) +
               ",\"required\":" + std::to_string(status.required) +
               ",\"executed\":" + (status.executed ? "true" : "false") + "}";
    ST_RETURN_IF_ERROR(audit::CommitState(changes, audit::StateTable::kApproval, std::to_string(r.seq), r));
    if (!status.executed) return {};
    ST_RETURN_IF_ERROR(changes.UseApprovals(plan.key, r.time_unix_ms, r.seq));
    return plan.write(changes, r, Join(status.approvers, "+"));
  };
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record, RecordAction(writer_, std::move(plan.draft), effect));
  status.audit_seq = record.seq;
  if (!status.executed) {
    status.note = std::to_string(status.approvers.size()) + " of " + std::to_string(status.required) +
                  " approvals; another officer must approve the same action within the approval time";
    return status;
  }
  ST_ASSIGN_OR_RETURN(status.note, plan.apply(record));
  return status;
}

void OfficerDesk::FollowFleetFrom(uint64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  officer_version_ = version;
}

Result<bool> OfficerDesk::FollowFleet(store::Store& store) {
  std::lock_guard<std::mutex> lock(mu_);
  ST_ASSIGN_OR_RETURN(uint64_t version, store.OfficerVersion());
  if (version == officer_version_) return false;
  // Each apart: a CA row this station cannot load must not keep a line the
  // fleet's officers removed serving here. The version stays behind until
  // both are in force, so the follower tries again each second.
  Status lines = RestoreProfileLines(store, profiles_);
  Status cas = RestoreCaSets(store, issuers_, token_, root_pem_path_);
  ST_RETURN_IF_ERROR(lines);
  ST_RETURN_IF_ERROR(cas);
  officer_version_ = version;
  return true;
}

}  // namespace station::officer
