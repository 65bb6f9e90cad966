// The reservation check's lookups (reservation_check.h) in PostgreSQL
// (store/ only). In a batch (`lock`), each lookup first takes a transaction
// lock on what it looks at (the key, the device, the code's row), so a station
// that races for the same device or key waits for this batch's commit and
// then sees its record: with READ COMMITTED each statement reads what was
// committed before it began. Uses name the station of the record beside its seq.
#pragma once

#include "station/store/pg_db.h"
#include "station/store/reservation_check.h"

namespace station::store::pg {

class PgReservationRows final : public ReservationRows {
 public:
  PgReservationRows(PGconn* conn, const std::string& station_id, bool lock)
      : conn_(conn), station_id_(station_id), lock_(lock) {}

  Result<std::optional<Issued>> KeyIssued(const std::string& spki_sha256) override;
  Result<std::optional<Issued>> DeviceIssued(const std::string& profile, const std::string& device_id) override;
  Result<std::optional<std::string>> OpenLot(const std::string& profile, const std::string& device_id) override;
  Result<std::optional<MintedCode>> FindCode(const std::string& code_sha256) override;
  Status UseCode(const std::string& code_sha256, uint64_t seq) override;
  Result<std::optional<ReissueApproval>> LiveReissueApproval(const std::string& profile, const std::string& device_id,
                                                             int64_t now_unix_ms) override;
  Status UseReissueApproval(int64_t id, uint64_t seq) override;

 private:
  // In a batch: waits for, then holds until commit, the lock named `what`.
  Status Lock(const std::string& what);
  // The first row's (station_id, seq) as an Issued, if there is a row.
  Result<std::optional<Issued>> FirstIssued(const std::string& sql, const Params& params, const char* doing);

  PGconn* conn_;
  const std::string& station_id_;
  const bool lock_;
};

}  // namespace station::store::pg
