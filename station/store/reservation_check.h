// A reservation (policy/reservation.h) checked against the registry, the same
// for every store: a public key is certified once; a one-per-device profile
// certifies a device once unless an officer approved a reissue; a lot profile
// certifies only devices on an open lot; a registration code is good once,
// before it expires.
//
// The same check runs twice: on a worker before signing (check only, so
// doomed requests never reach the token) and in the batch that appends the
// record (authoritative; it also uses up the code or approval), so two racing
// requests can never both pass. Each store answers the lookups (ReservationRows)
// in its own SQL; in a batch its lookups also lock what they look at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "station/base/error.h"
#include "station/policy/reservation.h"

namespace station::store {

class ReservationRows {
 public:
  virtual ~ReservationRows() = default;

  // The record (its seq, and the station that wrote it where there are several)
  // that certified a key, or a device under a profile, first.
  struct Issued {
    uint64_t seq = 0;
    std::string station;  // "" for the embedded store
  };
  // Called first, with the whole reservation: a store may look up (and lock)
  // what the check will ask for in fewer round trips.
  virtual Status Prefetch(const policy::Reservation&) { return {}; }
  virtual Result<std::optional<Issued>> KeyIssued(const std::string& spki_sha256) = 0;
  virtual Result<std::optional<Issued>> DeviceIssued(const std::string& profile, const std::string& device_id) = 0;
  // The open lot of `profile` the device is on.
  virtual Result<std::optional<std::string>> OpenLot(const std::string& profile, const std::string& device_id) = 0;

  struct MintedCode {
    std::string profile;
    int64_t expires_unix_ms = 0;
    std::optional<Issued> used_by;
  };
  virtual Result<std::optional<MintedCode>> FindCode(const std::string& code_sha256) = 0;
  virtual Status UseCode(const std::string& code_sha256, uint64_t seq) = 0;

  struct ReissueApproval {
    int64_t id = 0;  // the store's handle on the row
    std::string approved_by;
  };
  // The oldest unused, unexpired approval of one more certificate for the device.
  virtual Result<std::optional<ReissueApproval>> LiveReissueApproval(const std::string& profile,
                                                                     const std::string& device_id,
                                                                     int64_t now_unix_ms) = 0;
  virtual Status UseReissueApproval(int64_t id, uint64_t seq) = 0;
};

// FAILED_PRECONDITION DUPLICATE_KEY or DUPLICATE_DEVICE, PERMISSION_DENIED
// DEVICE_NOT_AUTHORIZED, or a storage error. On success returns how the device
// was authorized ("lot:L1", "code:HASH16", "+reissue:officer-1", or "").
// With `use_up_as` > 0 it marks the code or approval used by that audit seq.
Result<std::string> CheckReservation(ReservationRows& rows, const policy::Reservation& reservation,
                                     int64_t now_unix_ms, uint64_t use_up_as);

}  // namespace station::store
