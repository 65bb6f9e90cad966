// The reservation check's lookups (reservation_check.h) in PostgreSQL
// (store/ only). In a batch (`lock`), Prefetch first takes transaction locks on
// the key and the device, and FindCode a row lock on the code, so a station
// that races for the same device, key or code waits for this batch's commit
// and then sees its record: with READ COMMITTED each statement reads what was
// committed before it began. Uses name the station of the record beside its seq.
#pragma once

#include <optional>

#include "station/store/pg_db.h"
#include "station/store/reservation_check.h"

namespace station::store::pg {

class PgReservationRows final : public ReservationRows {
 public:
  PgReservationRows(PGconn* conn, const std::string& station_id, bool lock)
      : conn_(conn), station_id_(station_id), lock_(lock) {}
  // Before signing: Prefetch also looks for the issuance of this caller's request id.
  void AlsoFindRequest(const std::string& caller, const std::string& request_id) {
    caller_ = caller;
    request_id_ = request_id;
  }
  // Whether it found one (its seq in this store's log or another's).
  bool request_found() const { return request_found_; }

  // Locks the key and the device (in a batch) and looks up both, in one round
  // trip (station_reservation_lookup, pg_db.cc).
  Status Prefetch(const policy::Reservation& reservation) override;
  Result<std::optional<Issued>> KeyIssued(const std::string& spki_sha256) override;
  Result<std::optional<Issued>> DeviceIssued(const std::string& profile, const std::string& device_id) override;
  Result<std::optional<std::string>> OpenLot(const std::string& profile, const std::string& device_id) override;
  Result<std::optional<MintedCode>> FindCode(const std::string& code_sha256) override;
  Status UseCode(const std::string& code_sha256, uint64_t seq) override;
  Result<std::optional<ReissueApproval>> LiveReissueApproval(const std::string& profile, const std::string& device_id,
                                                             int64_t now_unix_ms) override;
  Status UseReissueApproval(int64_t id, uint64_t seq) override;

 private:
  // "station seq" of a lookup's answer, as an Issued.
  std::optional<Issued> IssuedFrom(const PGresult* rows, int col) const;

  struct Prefetched {
    std::string spki_sha256, profile, device_id;
    std::optional<Issued> key, device;
  };

  PGconn* conn_;
  const std::string& station_id_;
  const bool lock_;
  std::optional<Prefetched> prefetched_;
  std::string caller_, request_id_;
  bool request_found_ = false;
};

}  // namespace station::store::pg
