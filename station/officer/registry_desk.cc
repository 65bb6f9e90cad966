#include "station/officer/registry_desk.h"

#include "station/audit/record.h"
#include "station/audit/sqlite.h"
#include "station/audit/state.h"
#include "station/officer/officer_log.h"

namespace station::officer {
namespace {

// A digest of the lot's ids, for the record: what was imported, not only how many.
// SHA-256 over "id\n" for each id, streamed: a lot may hold a million ids.
std::string IdsSha256(const std::vector<std::string>& ids) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  Bytes digest(32);
  unsigned int len = 0;
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  for (size_t i = 0; ok && i < ids.size(); ++i)
    ok = EVP_DigestUpdate(ctx.get(), ids[i].data(), ids[i].size()) == 1 && EVP_DigestUpdate(ctx.get(), "\n", 1) == 1;
  if (!ok || EVP_DigestFinal_ex(ctx.get(), digest.data(), &len) != 1) return "";
  return Hex(digest);
}

}  // namespace

RegistryDesk::RegistryDesk(config::OfficersConfig officers, std::vector<const issuance::CertificateProfile*> profiles,
                           std::string db_path, audit::AuditWriter& writer)
    : officers_(std::move(officers)), profiles_(std::move(profiles)), db_path_(std::move(db_path)), writer_(writer) {}

Status RegistryDesk::CheckProfile(const std::string& name, policy::Authorization authorization) const {
  for (const issuance::CertificateProfile* profile : profiles_)
    if (profile->profile().name == name) return registry::RequireAuthorization(profile->profile(), authorization);
  return MakeError(Code::kNotFound, "PROFILE_NOT_FOUND", "the station has no profile '" + name + "'");
}

Status RegistryDesk::CheckLotImport(const std::string& officer, const std::string& profile) const {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  return CheckProfile(profile, policy::Authorization::kLot);
}

Result<RegistryChangeDone> RegistryDesk::ImportLot(const std::string& officer, registry::Lot lot) {
  ST_RETURN_IF_ERROR(CheckLotImport(officer, lot.profile));
  ST_RETURN_IF_ERROR(registry::CheckLot(lot));
  if (lot.source.size() > 256) lot.source.resize(256);
  lot.imported_by = officer;
  audit::AuditRecord draft;
  draft.caller = officer;
  draft.action = "lot.import";
  draft.profile = lot.profile;
  draft.detail = "{\"lot\":\"" + audit::JsonEscape(lot.name) + "\",\"devices\":" + std::to_string(lot.device_ids.size()) +
                 ",\"device_ids_sha256\":\"" + IdsSha256(lot.device_ids) + "\",\"source\":\"" +
                 audit::JsonEscape(lot.source) + "\"}";
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record,
                      RecordAction(writer_, std::move(draft), [&lot](sqlite3* db, audit::AuditRecord& r) -> Status {
                        ST_RETURN_IF_ERROR(registry::ImportLotIn(db, lot, r.time_unix_ms));
                        return audit::CommitState(db, audit::StateTable::kLot, lot.name, r);
                      }));
  return RegistryChangeDone{lot.device_ids.size(), record.seq};
}

Result<RegistryChangeDone> RegistryDesk::CloseLot(const std::string& officer, const std::string& name) {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  if (name.empty() || name.size() > 64) return MakeError(Code::kInvalidArgument, "USAGE", "name the lot (1 to 64 characters)");
  audit::AuditRecord draft;
  draft.caller = officer;
  draft.action = "lot.close";
  draft.detail = "{\"lot\":\"" + audit::JsonEscape(name) + "\"}";
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record,
                      RecordAction(writer_, std::move(draft), [&name](sqlite3* db, audit::AuditRecord& r) -> Status {
                        ST_ASSIGN_OR_RETURN(r.profile, registry::CloseLotIn(db, name));
                        return audit::CommitState(db, audit::StateTable::kLot, name, r);
                      }));
  return RegistryChangeDone{0, record.seq};
}

Result<std::vector<registry::LotSummary>> RegistryDesk::ListLots(const std::string& officer) const {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  return registry::ListLots(db_path_);
}

Result<MintedCodes> RegistryDesk::MintCodes(const std::string& officer, const std::string& profile, size_t count,
                                            int64_t ttl_seconds) {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  ST_RETURN_IF_ERROR(CheckProfile(profile, policy::Authorization::kRegistrationCode));
  if (ttl_seconds < 60 || ttl_seconds > 30 * 86400)
    return MakeError(Code::kInvalidArgument, "USAGE", "registration codes last from 1 minute to 30 days");
  MintedCodes out;
  ST_ASSIGN_OR_RETURN(out.codes, registry::NewCodes(count, audit::NowUnixMs() + ttl_seconds * 1000));
  audit::AuditRecord draft;
  draft.caller = officer;
  draft.action = "codes.mint";
  draft.profile = profile;
  draft.detail = "{\"count\":" + std::to_string(count) + ",\"expires_unix_ms\":" +
                 std::to_string(out.codes.front().expires_unix_ms) + "}";
  // The codes' batch is the record's action id: which record minted a code is one lookup.
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record,
                      RecordAction(writer_, std::move(draft), [&](sqlite3* db, audit::AuditRecord& r) -> Status {
                        ST_RETURN_IF_ERROR(registry::InsertCodes(db, profile, r.request_id, out.codes));
                        return audit::CommitState(db, audit::StateTable::kCodeBatch, r.request_id, r);
                      }));
  out.audit_seq = record.seq;
  return out;
}

}  // namespace station::officer
