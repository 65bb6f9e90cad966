// The device registry as officers change it on a running station: import and
// close production lots, mint registration codes. One officer each (they
// authorize devices of a profile whose lines and CA need k officers already);
// each call is an officer record in the audit log, written in the same
// transaction as its rows and durable before the call returns.
#pragma once

#include <string>
#include <vector>

#include "station/audit/writer.h"
#include "station/config/config.h"
#include "station/issuance/certificate_profile.h"
#include "station/registry/registry_admin.h"

namespace station::officer {

struct RegistryChangeDone {
  size_t devices = 0;  // a lot's, for an import
  uint64_t audit_seq = 0;
};

struct MintedCodes {
  std::vector<registry::MintedCode> codes;
  uint64_t audit_seq = 0;
};

class RegistryDesk {
 public:
  RegistryDesk(config::OfficersConfig officers, std::vector<const issuance::CertificateProfile*> profiles,
               std::string db_path, audit::AuditWriter& writer);

  // `lot` as registry::CheckLot takes it, for a profile with authorization
  // "lot" (PROFILE_NOT_FOUND, PROFILE_MISMATCH, LOT_INVALID, LOT_EXISTS).
  Result<RegistryChangeDone> ImportLot(const std::string& officer, registry::Lot lot);
  // What ImportLot checks of the caller and the profile, for a service to ask
  // before it reads a lot's ids (OFFICER_NOT_MEMBER, PROFILE_NOT_FOUND, ...).
  Status CheckLotImport(const std::string& officer, const std::string& profile) const;
  Result<RegistryChangeDone> CloseLot(const std::string& officer, const std::string& name);
  Result<std::vector<registry::LotSummary>> ListLots(const std::string& officer) const;
  // For a profile with authorization "registration_code"; ttl 60 s to 30 days.
  Result<MintedCodes> MintCodes(const std::string& officer, const std::string& profile, size_t count,
                                int64_t ttl_seconds);

 private:
  Status CheckProfile(const std::string& name, policy::Authorization authorization) const;

  const config::OfficersConfig officers_;
  const std::vector<const issuance::CertificateProfile*> profiles_;
  const std::string db_path_;
  audit::AuditWriter& writer_;
};

}  // namespace station::officer
