#include "station/store/reservation_check.h"

namespace station::store {
namespace {

Error NotAuthorized(const std::string& message) {
  return MakeError(Code::kPermissionDenied, "DEVICE_NOT_AUTHORIZED", message);
}

// "audit seq 12", or "audit seq 12 of station line-b" when another station wrote it.
std::string Where(const ReservationRows::Issued& issued) {
  std::string where = "audit seq " + std::to_string(issued.seq);
  if (!issued.station.empty()) where += " of station " + issued.station;
  return where;
}

Result<std::string> CheckCode(ReservationRows& rows, const policy::Reservation& r, int64_t now, uint64_t use_up_as) {
  ST_ASSIGN_OR_RETURN(std::optional<ReservationRows::MintedCode> code, rows.FindCode(r.code_sha256));
  if (!code || code->profile != r.profile)
    return NotAuthorized("the registration code is not one minted for profile '" + r.profile + "'");
  if (code->used_by)
    return NotAuthorized("the registration code was used already (" + Where(*code->used_by) + "); a code works once");
  if (code->expires_unix_ms <= now) return NotAuthorized("the registration code has expired");
  if (use_up_as > 0) ST_RETURN_IF_ERROR(rows.UseCode(r.code_sha256, use_up_as));
  return "code:" + r.code_sha256.substr(0, 16);
}

Result<std::string> CheckDevice(ReservationRows& rows, const policy::Reservation& r, int64_t now, uint64_t use_up_as) {
  ST_ASSIGN_OR_RETURN(std::optional<ReservationRows::Issued> earlier, rows.DeviceIssued(r.profile, r.device_id));
  if (!earlier) return std::string();
  ST_ASSIGN_OR_RETURN(std::optional<ReservationRows::ReissueApproval> approval,
                      rows.LiveReissueApproval(r.profile, r.device_id, now));
  if (!approval)
    return MakeError(Code::kFailedPrecondition, "DUPLICATE_DEVICE",
                     "device '" + r.device_id + "' already has a certificate of profile '" + r.profile + "' (" +
                         Where(*earlier) + "); a second one needs an officer's approval");
  if (use_up_as > 0) ST_RETURN_IF_ERROR(rows.UseReissueApproval(approval->id, use_up_as));
  return "+reissue:" + approval->approved_by;
}

}  // namespace

Result<std::string> CheckReservation(ReservationRows& rows, const policy::Reservation& r, int64_t now,
                                     uint64_t use_up_as) {
  ST_RETURN_IF_ERROR(rows.Prefetch(r));
  ST_ASSIGN_OR_RETURN(std::optional<ReservationRows::Issued> key, rows.KeyIssued(r.spki_sha256));
  if (key)
    return MakeError(Code::kFailedPrecondition, "DUPLICATE_KEY",
                     "this public key was certified before (" + Where(*key) +
                         "); every device must generate its own key");
  std::string authorization;
  if (r.lot_required) {
    ST_ASSIGN_OR_RETURN(std::optional<std::string> lot, rows.OpenLot(r.profile, r.device_id));
    if (!lot) return NotAuthorized("device '" + r.device_id + "' is not on an open lot of profile '" + r.profile + "'");
    authorization = "lot:" + *lot;
  }
  if (r.code_required) {
    if (r.code_sha256.empty())
      return NotAuthorized("profile '" + r.profile +
                           "' needs a registration code in attributes[\"registration_code\"]");
    ST_ASSIGN_OR_RETURN(authorization, CheckCode(rows, r, now, use_up_as));
  }
  if (r.one_per_device) {
    ST_ASSIGN_OR_RETURN(std::string reissue, CheckDevice(rows, r, now, use_up_as));
    authorization += reissue;
  }
  return authorization;
}

}  // namespace station::store
