#include "station/officer/desk.h"

#include <openssl/rand.h>

#include <algorithm>
#include <future>

#include "hsm/uri.h"
#include "station/issuance/request.h"
#include "station/officer/approvals.h"
#include "station/officer/ca_set.h"
#include "station/pki/cert_builder.h"
#include "station/registry/registry_admin.h"

namespace station::officer {
namespace {

using issuance::CaState;

std::string JsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) out += (out.size() > 1 ? ",\"" : "\"") + audit::JsonEscape(item) + "\"";
  return out + "]";
}

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

Result<std::string> ActionId() {
  uint8_t raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return MakeError(Code::kInternal, "RANDOM_FAILED", "the random generator failed");
  return Hex(raw, sizeof raw);
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

OfficerDesk::OfficerDesk(config::OfficersConfig officers, std::string root_pem_path,
                         std::vector<issuance::Issuer*> issuers, std::vector<std::string> profiles,
                         std::shared_ptr<hsm::Token> token, audit::AuditWriter& writer)
    : officers_(std::move(officers)),
      root_pem_path_(std::move(root_pem_path)),
      issuers_(std::move(issuers)),
      profiles_(std::move(profiles)),
      token_(std::move(token)),
      writer_(writer) {}

Status OfficerDesk::CheckOfficer(const std::string& identity) const {
  if (officers_.members.empty())
    return MakeError(Code::kFailedPrecondition, "OFFICERS_NOT_CONFIGURED",
                     "this station names no officers; add [officers] members and approvals_required to its config");
  if (std::find(officers_.members.begin(), officers_.members.end(), identity) == officers_.members.end())
    return MakeError(Code::kPermissionDenied, "OFFICER_NOT_MEMBER",
                     "'" + identity + "' is not one of the officers in [officers] members");
  return {};
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

Result<audit::AuditRecord> OfficerDesk::Record(audit::AuditRecord draft, audit::AuditWriter::Effect effect) {
  ST_ASSIGN_OR_RETURN(draft.request_id, ActionId());
  std::promise<Result<audit::AppendOutcome>> promise;
  auto future = promise.get_future();
  writer_.AppendAction(std::move(draft), std::move(effect),
                       [&promise](Result<audit::AppendOutcome> outcome) { promise.set_value(std::move(outcome)); });
  ST_ASSIGN_OR_RETURN(audit::AppendOutcome outcome, future.get());
  return outcome.record;
}

Result<std::vector<CaView>> OfficerDesk::ListCas(const std::string& officer, const std::string& issuer_name) {
  ST_RETURN_IF_ERROR(CheckOfficer(officer));
  ST_RETURN_IF_ERROR(CheckIssuerFilter(issuer_name));
  std::vector<CaView> out;
  for (issuance::Issuer* issuer : issuers_) {
    if (!issuer_name.empty() && issuer->name() != issuer_name) continue;
    for (const auto& status : issuer->List())
      out.push_back({issuer->name(), status.ca, status.state, status.activate_at_unix_ms});
  }
  return out;
}

Result<StagedCa> OfficerDesk::StageCa(const std::string& officer, const std::string& issuer_name,
                                      const std::string& key_label, const std::string& certificate_pem) {
  std::lock_guard<std::mutex> lock(mu_);
  ST_RETURN_IF_ERROR(CheckOfficer(officer));
  ST_ASSIGN_OR_RETURN(issuance::Issuer * issuer, FindIssuer(issuer_name));
  if (key_label.empty() || key_label.size() > 128)
    return MakeError(Code::kInvalidArgument, "USAGE", "name the CA key by its label (1 to 128 characters)");
  if (certificate_pem.empty() || certificate_pem.size() > 256 * 1024)
    return MakeError(Code::kInvalidArgument, "USAGE", "the CA certificate PEM must be 1 byte to 256 KiB");
  const std::string key_uri = hsm::PrivateKeyUri(token_->label(), key_label).ToString();
  ST_ASSIGN_OR_RETURN(auto ca, LoadCa(token_, key_uri, certificate_pem, root_pem_path_));
  const std::string key_id = ca->key_id_hex();
  if (issuer->Find(key_id))
    return MakeError(Code::kAlreadyExists, "CA_EXISTS",
                     "issuer '" + issuer->name() + "' already has the CA with key identifier " + key_id);

  audit::AuditRecord draft;
  draft.caller = officer;
  draft.action = "ca.stage";
  draft.profile = issuer->name();
  draft.issuer_key_id = key_id;
  draft.detail = audit::JsonObject({{"key_uri", key_uri},
                                    {"subject", pki::NameText(X509_get_subject_name(ca->cert()))},
                                    {"certificate_sha256", Hex(Sha256(ca->chain_der().front()))}});
  std::vector<StoredCa> rows = Snapshot(*issuer);
  rows.push_back({issuer->name(), key_id, key_uri, ca->chain_pem(), CaState::kStaged, 0});
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record, Record(std::move(draft), [&](sqlite3* db, audit::AuditRecord& r) {
                        return WriteCaSet(db, issuer->name(), rows, r.seq);
                      }));
  ST_RETURN_IF_ERROR(issuer->Stage(ca));
  return StagedCa{{issuer->name(), ca, CaState::kStaged, 0}, record.seq};
}

Result<ApprovalStatus> OfficerDesk::Approve(const std::string& officer, const Action& action) {
  std::lock_guard<std::mutex> lock(mu_);
  ST_RETURN_IF_ERROR(CheckOfficer(officer));
  audit::AuditRecord draft;
  draft.caller = officer;
  std::string key;      // the action in canonical text: what approvals must agree on
  std::string details;  // the action's own fields, for the record
  Resolved target;
  const ReissueDevice* reissue = std::get_if<ReissueDevice>(&action);
  const ActivateCa* activate = std::get_if<ActivateCa>(&action);
  if (reissue != nullptr) {
    if (std::find(profiles_.begin(), profiles_.end(), reissue->profile) == profiles_.end())
      return MakeError(Code::kNotFound, "PROFILE_NOT_FOUND", "the station has no profile '" + reissue->profile + "'");
    const std::string& id = reissue->device_id;
    if (id.empty() || id.size() > issuance::kMaxDeviceIdBytes || !issuance::PrintableAscii(id))
      return MakeError(Code::kInvalidArgument, "DEVICE_ID_INVALID", "device ids have 1 to 64 printable characters");
    if (reissue->ttl_s < 60 || reissue->ttl_s > 30 * 86400)
      return MakeError(Code::kInvalidArgument, "USAGE", "a reissue approval lasts from 1 minute to 30 days");
    draft.action = "device.reissue";
    draft.profile = reissue->profile;
    draft.device_id = reissue->device_id;
    key = draft.action + "\nprofile=" + reissue->profile + "\ndevice_id=" + reissue->device_id + "\nttl_s=" +
          std::to_string(reissue->ttl_s);
    details = "\"ttl_s\":" + std::to_string(reissue->ttl_s);
  } else {
    const CaRef& ref = activate ? activate->ref : std::get<RetireCa>(action).ref;
    ST_ASSIGN_OR_RETURN(target, Resolve(ref));
    const std::string key_id = target.ca->key_id_hex();
    if (activate && target.state != CaState::kStaged)
      return MakeError(Code::kFailedPrecondition, "CA_NOT_STAGED",
                       "CA " + key_id + " is " + issuance::CaStateName(target.state) +
                           "; only a staged CA can be activated");
    if (!activate && target.state == CaState::kRetired)
      return MakeError(Code::kFailedPrecondition, "CA_RETIRED", "CA " + key_id + " is already retired");
    draft.action = activate ? "ca.activate" : "ca.retire";
    draft.profile = target.issuer->name();
    draft.issuer_key_id = key_id;
    const int64_t at = activate ? activate->at_unix_ms : 0;
    key = draft.action + "\nissuer=" + draft.profile + "\nkey_id=" + key_id + "\nat_unix_ms=" + std::to_string(at);
    details = "\"at_unix_ms\":" + std::to_string(at);
  }

  ApprovalStatus status;
  status.action = draft.action;
  status.required = officers_.approvals_required;
  auto effect = [&](sqlite3* db, audit::AuditRecord& r) -> Status {
    ST_ASSIGN_OR_RETURN(status.approvers, AddApproval(db, key, officer, r.time_unix_ms, officers_.approval_ttl_s, r.seq));
    status.executed = status.approvers.size() >= status.required;
    r.detail = "{" + details + ",\"approvers\":" + JsonList(status.approvers) +
               ",\"required\":" + std::to_string(status.required) +
               ",\"executed\":" + (status.executed ? "true" : "false") + "}";
    if (!status.executed) return {};
    ST_RETURN_IF_ERROR(UseApprovals(db, key, r.time_unix_ms, r.seq));
    if (reissue != nullptr)
      return registry::InsertReissueApproval(db, reissue->profile, reissue->device_id, Join(status.approvers, "+"),
                                             r.time_unix_ms, reissue->ttl_s);
    CaState to = CaState::kRetired;
    if (activate) to = activate->at_unix_ms > r.time_unix_ms ? CaState::kStaged : CaState::kActive;
    return WriteCaSet(db, target.issuer->name(),
                      Planned(Snapshot(*target.issuer), r.issuer_key_id, to, activate ? activate->at_unix_ms : 0),
                      r.seq);
  };
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record, Record(std::move(draft), effect));
  status.audit_seq = record.seq;
  if (!status.executed) {
    status.note = std::to_string(status.approvers.size()) + " of " + std::to_string(status.required) +
                  " approvals; another officer must approve the same action within the approval time";
    return status;
  }
  if (reissue != nullptr) {
    status.note = "device '" + reissue->device_id + "' may have one more certificate of profile '" + reissue->profile +
                  "'";
    return status;
  }
  const std::string key_id = target.ca->key_id_hex();
  if (activate) {
    ST_RETURN_IF_ERROR(target.issuer->Activate(key_id, activate->at_unix_ms));
    status.note = "CA " + key_id + (activate->at_unix_ms > record.time_unix_ms ? " activates at its set time"
                                                                              : " is active: new certificates are "
                                                                                "signed with it");
    return status;
  }
  Status retired = target.issuer->Retire(key_id);
  status.note = "CA " + key_id + " is retired: nothing more is signed with it";
  if (!retired.ok()) status.note = retired.error().message;
  return status;
}

}  // namespace station::officer
