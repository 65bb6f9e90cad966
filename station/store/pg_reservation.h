// The reservation check's lookups (reservation_check.h) in PostgreSQL
// (store/ only). In a batch (`lock`), Prefetch first takes transaction locks on
// the key and the device, and FindCode a row lock on the code, so a station
// that races for the same device, key or code waits for this batch's commit
// and then sees its record: with READ COMMITTED each statement reads what was
// committed before it began. Uses name the station of the record beside its seq.
#pragma once

#include <functional>
#include <optional>

#include "station/store/pg_db.h"
#include "station/store/reservation_check.h"
#include "station/store/store.h"

namespace station::store::pg {

// What holds a request's key, its device and its request id.
struct Looked {
  std::optional<ReservationRows::Issued> key, device;
  bool request_found = false;
};
// Looks up several requests in one round trip (station_batch_lookup,
// pg_db.cc); with `lock`, in a batch, first takes their keys', devices' and
// request ids' locks, in one order. One answer per request, in order.
Result<std::vector<Looked>> LookUpIssuances(PGconn* conn, const std::string& station_id,
                                            const std::vector<IssuanceAsked>& requests, bool lock);

class PgReservationRows final : public ReservationRows {
 public:
  PgReservationRows(PGconn* conn, const std::string& station_id, bool lock)
      : conn_(conn), station_id_(station_id), lock_(lock) {}
  // What LookUpIssuances found for this key and device (Prefetch then asks
  // nothing); in a batch, also the batch's own records of them, which the
  // database does not hold yet.
  void Know(Looked looked) { known_ = std::move(looked); }
  void AlsoOwn(std::optional<Issued> key, std::optional<Issued> device) {
    own_key_ = std::move(key);
    own_device_ = std::move(device);
  }
  // Runs before each write (a code or approval used up).
  void BeforeWriting(std::function<Status()> hook) { before_writing_ = std::move(hook); }

  // Locks the key and the device (in a batch) and looks up both, in one round
  // trip (LookUpIssuances), unless they are known.
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
  Status Writing() { return before_writing_ ? before_writing_() : Status(); }

  struct Prefetched {
    std::string spki_sha256, profile, device_id;
    std::optional<Issued> key, device;
  };

  PGconn* conn_;
  const std::string& station_id_;
  const bool lock_;
  std::optional<Prefetched> prefetched_;
  std::optional<Looked> known_;
  std::optional<Issued> own_key_, own_device_;
  std::function<Status()> before_writing_;
};

}  // namespace station::store::pg
