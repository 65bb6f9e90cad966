#include "station/policy/authorize.h"

namespace station::policy {

Result<Reservation> Authorize(const Profile& profile, const LineSet& lines, const RequestFacts& facts,
                              const DeviceKeyFacts& key) {
  ST_RETURN_IF_ERROR(CheckLine(profile.name, lines, facts.caller));
  ST_RETURN_IF_ERROR(CheckRequest(profile, facts));
  ST_RETURN_IF_ERROR(CheckKeyType(profile, key.type));
  Reservation reservation;
  reservation.profile = profile.name;
  reservation.device_id = facts.device_id;
  reservation.spki_sha256 = key.spki_sha256;
  reservation.one_per_device = profile.one_per_device;
  reservation.lot_required = profile.authorization == Authorization::kLot;
  reservation.code_required = profile.authorization == Authorization::kRegistrationCode;
  if (auto code = facts.attributes.find(kRegistrationCodeAttribute); code != facts.attributes.end())
    reservation.code_sha256 = CodeHash(code->second);
  return reservation;
}

}  // namespace station::policy
