// The device registry as officers change it on a running station: import and
// close production lots, mint registration codes. One officer each (they
// authorize devices of a profile whose lines and CA need k officers already);
// each call is an officer record in the audit log, written in the same
// transaction as its rows and durable before the call returns.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "station/audit/writer.h"
#include "station/base/ossl.h"
#include "station/config/config.h"
#include "station/issuance/certificate_profile.h"
#include "station/registry/registry_admin.h"
#include "station/store/store.h"

namespace station::officer {

struct RegistryChangeDone {
  size_t devices = 0;  // a lot's, for an import
  uint64_t audit_seq = 0;
};

struct MintedCodes {
  std::vector<registry::MintedCode> codes;
  uint64_t audit_seq = 0;
};

// One lot arriving in chunks (the Officer service's ImportLot stream): its
// ids go to the store as they come, never all into memory, and become the
// lot with the officer's record at Finish. Dropped unfinished, its staged ids
// are removed.
class LotImport {
 public:
  ~LotImport();
  LotImport(const LotImport&) = delete;
  LotImport& operator=(const LotImport&) = delete;

  // LOT_INVALID for a bad or repeated id, or past kMaxLotDevices in all.
  Status Add(const std::vector<std::string>& ids);
  // The record, and the lot: LOT_INVALID with no id, LOT_EXISTS.
  Result<RegistryChangeDone> Finish();

 private:
  friend class RegistryDesk;
  LotImport(audit::AuditWriter& writer, registry::Lot lot, std::string upload_id, std::shared_ptr<store::Store> store);
  audit::AuditWriter& writer_;
  registry::Lot lot_;  // without its ids
  const std::string upload_id_;
  std::shared_ptr<store::Store> store_;  // stages the ids as they come (store::Store::StageLotIds)
  size_t count_ = 0;
  EvpMdCtxPtr ids_digest_;  // SHA-256 over "id\n" for each id so far, for the record
  bool finished_ = false;
};

class RegistryDesk {
 public:
  RegistryDesk(config::OfficersConfig officers, std::vector<const issuance::CertificateProfile*> profiles,
               std::shared_ptr<store::Store> store, audit::AuditWriter& writer);

  // A lot (a name and 1 to kMaxLotDevices distinct ids, registry::CheckLotName
  // and CheckLotId), for a profile with authorization "lot" (PROFILE_NOT_FOUND,
  // PROFILE_MISMATCH, LOT_INVALID, LOT_EXISTS).
  Result<RegistryChangeDone> ImportLot(const std::string& officer, registry::Lot lot);
  // The same in chunks: `lot` without its ids (PROFILE_NOT_FOUND,
  // PROFILE_MISMATCH, LOT_INVALID for its name, OFFICER_NOT_MEMBER).
  Result<std::unique_ptr<LotImport>> BeginLotImport(const std::string& officer, registry::Lot lot);
  Result<RegistryChangeDone> CloseLot(const std::string& officer, const std::string& name);
  Result<std::vector<registry::LotSummary>> ListLots(const std::string& officer) const;
  // For a profile with authorization "registration_code"; ttl 60 s to 30 days.
  Result<MintedCodes> MintCodes(const std::string& officer, const std::string& profile, size_t count,
                                int64_t ttl_seconds);

 private:
  Status CheckProfile(const std::string& name, policy::Authorization authorization) const;
  Status CheckLotImport(const std::string& officer, const std::string& profile) const;

  const config::OfficersConfig officers_;
  const std::vector<const issuance::CertificateProfile*> profiles_;
  const std::shared_ptr<store::Store> store_;
  audit::AuditWriter& writer_;
};

}  // namespace station::officer
