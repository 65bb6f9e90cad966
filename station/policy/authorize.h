// "May this device get this certificate?", in one place: who may use the
// profile, the request's fields against it, the device key against the
// global and the profile's key rules, and what the registry must then grant
// (a key never certified before, one certificate per device, a lot, a
// registration code) as a Reservation. Pure: no I/O, no clock, no token. The
// store carries the reservation out atomically with the record (store.h).
//
// The caller's role is the service's first gate (issuance::ValidateRequest):
// only a line reaches the log, even for a retry.
#pragma once

#include <string>

#include "station/policy/profile.h"
#include "station/policy/request_rules.h"
#include "station/policy/reservation.h"

namespace station::policy {

// The device key as the CSR checks found it.
struct DeviceKeyFacts {
  std::string type;         // "ec-p256", "ec-p384", "rsa-<bits>"
  std::string spki_sha256;  // lowercase hex SHA-256 of its SubjectPublicKeyInfo
};

// The reservation to make, or the refusal: PERMISSION_DENIED
// PROFILE_NOT_ALLOWED (CheckLine), the INVALID_ARGUMENT reasons of
// CheckRequest and CheckKeyType.
Result<Reservation> Authorize(const Profile& profile, const LineSet& lines, const RequestFacts& facts,
                              const DeviceKeyFacts& key);

}  // namespace station::policy
