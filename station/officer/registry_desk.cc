#include "station/officer/registry_desk.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "station/audit/record.h"
#include "station/audit/state.h"
#include "station/base/duration.h"
#include "station/base/text.h"
#include "station/officer/officer_log.h"

namespace station::officer {
namespace {

Result<std::string> UploadId() {
  uint8_t raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return MakeError(Code::kInternal, "RANDOM_FAILED", "the random generator failed: " + OpenSslErrors());
  return Hex(raw, sizeof raw);
}

}  // namespace

RegistryDesk::RegistryDesk(config::OfficersConfig officers, std::vector<const issuance::CertificateProfile*> profiles,
                           std::shared_ptr<store::Store> store, audit::AuditWriter& writer)
    : officers_(std::move(officers)), profiles_(std::move(profiles)), store_(std::move(store)), writer_(writer) {}

Status RegistryDesk::CheckProfile(const std::string& name, policy::Authorization authorization) const {
  for (const issuance::CertificateProfile* profile : profiles_)
    if (profile->profile().name == name) return registry::RequireAuthorization(profile->profile(), authorization);
  return MakeError(Code::kNotFound, "PROFILE_NOT_FOUND", "the station has no profile '" + name + "'");
}

Status RegistryDesk::CheckLotImport(const std::string& officer, const std::string& profile) const {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  return CheckProfile(profile, policy::Authorization::kLot);
}

Result<std::unique_ptr<LotImport>> RegistryDesk::BeginLotImport(const std::string& officer, registry::Lot lot) {
  ST_RETURN_IF_ERROR(CheckLotImport(officer, lot.profile));
  ST_RETURN_IF_ERROR(registry::CheckLotName(lot.name));
  if (lot.source.size() > 256) lot.source.resize(256);
  lot.imported_by = officer;
  lot.device_ids.clear();
  ST_ASSIGN_OR_RETURN(std::string upload_id, UploadId());
  std::unique_ptr<LotImport> import(new LotImport(writer_, std::move(lot), std::move(upload_id), store_));
  if (!import->ids_digest_ || EVP_DigestInit_ex(import->ids_digest_.get(), EVP_sha256(), nullptr) != 1)
    return MakeError(Code::kInternal, "DIGEST_FAILED", "SHA-256 is unavailable: " + OpenSslErrors());
  return import;
}

Result<RegistryChangeDone> RegistryDesk::ImportLot(const std::string& officer, registry::Lot lot) {
  std::vector<std::string> ids = std::move(lot.device_ids);
  ST_ASSIGN_OR_RETURN(std::unique_ptr<LotImport> import, BeginLotImport(officer, std::move(lot)));
  ST_RETURN_IF_ERROR(import->Add(ids));
  return import->Finish();
}

LotImport::LotImport(audit::AuditWriter& writer, registry::Lot lot, std::string upload_id,
                     std::shared_ptr<store::Store> store)
    : writer_(writer), lot_(std::move(lot)), upload_id_(std::move(upload_id)), store_(std::move(store)),
      ids_digest_(EVP_MD_CTX_new()) {}

LotImport::~LotImport() {
  if (!finished_) (void)store_->DropLotUpload(upload_id_);  // at worst left to the next start
}

Status LotImport::Add(const std::vector<std::string>& ids) {
  if (count_ + ids.size() > registry::kMaxLotDevices)
    return MakeError(Code::kInvalidArgument, "LOT_INVALID", "a lot holds at most 1,000,000 devices");
  for (const std::string& id : ids) ST_RETURN_IF_ERROR(registry::CheckLotId(id));
  ST_RETURN_IF_ERROR(store_->StageLotIds(upload_id_, ids));
  for (const std::string& id : ids)
    if (EVP_DigestUpdate(ids_digest_.get(), id.data(), id.size()) != 1 ||
        EVP_DigestUpdate(ids_digest_.get(), "\n", 1) != 1)
      return MakeError(Code::kInternal, "DIGEST_FAILED", "SHA-256 failed: " + OpenSslErrors());
  count_ += ids.size();
  return {};
}

Result<RegistryChangeDone> LotImport::Finish() {
  if (count_ == 0) return MakeError(Code::kInvalidArgument, "LOT_INVALID", "a lot holds 1 to 1,000,000 device ids");
  Bytes digest(32);
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ids_digest_.get(), digest.data(), &len) != 1)
    return MakeError(Code::kInternal, "DIGEST_FAILED", "SHA-256 failed: " + OpenSslErrors());
  audit::AuditRecord draft;
  draft.caller = lot_.imported_by;
  draft.action = "lot.import";
  draft.profile = lot_.profile;
  draft.detail = "{\"lot\":\"" + JsonEscape(lot_.name) + "\",\"devices\":" + std::to_string(count_) +
                 ",\"device_ids_sha256\":\"" + Hex(digest) + "\",\"source\":\"" + JsonEscape(lot_.source) +
                 "\"}";
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record,
                      RecordAction(writer_, std::move(draft), [this](store::Changes& changes, audit::AuditRecord& r) -> Status {
                        const store::LotRow row{lot_.name, lot_.profile, lot_.source, lot_.imported_by};
                        ST_RETURN_IF_ERROR(changes.ImportLot(row, upload_id_, r.time_unix_ms));
                        return audit::CommitState(changes, audit::StateTable::kLot, lot_.name, r);
                      }));
  finished_ = true;
  return RegistryChangeDone{count_, record.seq};
}

Result<RegistryChangeDone> RegistryDesk::CloseLot(const std::string& officer, const std::string& name) {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  if (name.empty() || name.size() > 64) return MakeError(Code::kInvalidArgument, "USAGE", "name the lot (1 to 64 characters)");
  audit::AuditRecord draft;
  draft.caller = officer;
  draft.action = "lot.close";
  draft.detail = "{\"lot\":\"" + JsonEscape(name) + "\"}";
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record,
                      RecordAction(writer_, std::move(draft), [&name](store::Changes& changes, audit::AuditRecord& r) -> Status {
                        ST_ASSIGN_OR_RETURN(r.profile, changes.CloseLot(name));
                        return audit::CommitState(changes, audit::StateTable::kLot, name, r);
                      }));
  return RegistryChangeDone{0, record.seq};
}

Result<std::vector<registry::LotSummary>> RegistryDesk::ListLots(const std::string& officer) const {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  return store_->Lots();
}

Result<MintedCodes> RegistryDesk::MintCodes(const std::string& officer, const std::string& profile, size_t count,
                                            int64_t ttl_seconds) {
  ST_RETURN_IF_ERROR(CheckOfficer(officers_, officer));
  ST_RETURN_IF_ERROR(CheckProfile(profile, policy::Authorization::kRegistrationCode));
  if (ttl_seconds < 60 || ttl_seconds > 30 * 86400)
    return MakeError(Code::kInvalidArgument, "USAGE", "registration codes last from 1 minute to 30 days");
  MintedCodes out;
  ST_ASSIGN_OR_RETURN(out.codes, registry::NewCodes(count, base::NowUnixMs() + ttl_seconds * 1000));
  audit::AuditRecord draft;
  draft.caller = officer;
  draft.action = "codes.mint";
  draft.profile = profile;
  draft.detail = "{\"count\":" + std::to_string(count) + ",\"expires_unix_ms\":" +
                 std::to_string(out.codes.front().expires_unix_ms) + "}";
  // The codes' batch is the record's action id: which record minted a code is one lookup.
  ST_ASSIGN_OR_RETURN(audit::AuditRecord record,
                      RecordAction(writer_, std::move(draft), [&](store::Changes& changes, audit::AuditRecord& r) -> Status {
                        ST_RETURN_IF_ERROR(changes.AddCodes(profile, r.request_id, registry::CodeRows(out.codes)));
                        return audit::CommitState(changes, audit::StateTable::kCodeBatch, r.request_id, r);
                      }));
  out.audit_seq = record.seq;
  return out;
}

}  // namespace station::officer
