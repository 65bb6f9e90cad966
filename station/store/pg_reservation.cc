#include "station/store/pg_reservation.h"

namespace station::store::pg {

namespace {

// A lookup's "station seq" answer at (row, col) as an Issued; NULL as none.
// Only another station than `station_id` is worth naming.
std::optional<ReservationRows::Issued> IssuedAt(const PGresult* rows, int row, int col,
                                                const std::string& station_id) {
  if (IsNull(rows, row, col)) return std::nullopt;
  const std::string text = Text(rows, row, col);  // "station seq"
  const size_t space = text.rfind(' ');
  std::string station = text.substr(0, space);
  if (station == station_id) station.clear();
  return ReservationRows::Issued{std::strtoull(text.c_str() + space + 1, nullptr, 10), std::move(station)};
}

}  // namespace

Result<std::vector<Looked>> LookUpIssuances(PGconn* conn, const std::string& station_id,
                                            const std::vector<IssuanceAsked>& requests, bool lock) {
  std::vector<std::string> keys, profiles, devices, callers, request_ids;
  for (const IssuanceAsked& r : requests) {
    keys.push_back(r.reservation.spki_sha256);
    profiles.push_back(r.reservation.profile);
    devices.push_back(r.reservation.device_id);
    callers.push_back(r.caller);
    request_ids.push_back(r.request_id);
  }
  ST_ASSIGN_OR_RETURN(Rows rows, Run(conn,
                                     "SELECT key_record, device_record, request_record FROM station_batch_lookup("
                                     "$1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6)",
                                     Params(TextArray(keys), TextArray(profiles), TextArray(devices),
                                            TextArray(callers), TextArray(request_ids), lock ? "true" : "false"),
                                     "looking up keys and devices"));
  if (PQntuples(rows.get()) != static_cast<int>(requests.size()))
    return MakeError(Code::kUnavailable, "AUDIT_UNAVAILABLE",
                     "looking up keys and devices failed: " + std::to_string(PQntuples(rows.get())) +
                         " answers for " + std::to_string(requests.size()) + " requests");
  std::vector<Looked> out;
  for (int row = 0; row < PQntuples(rows.get()); ++row)
    out.push_back(Looked{IssuedAt(rows.get(), row, 0, station_id), IssuedAt(rows.get(), row, 1, station_id),
                         !IsNull(rows.get(), row, 2)});
  return out;
}

Status PgReservationRows::Prefetch(const policy::Reservation& r) {
  if (!known_) {
    ST_ASSIGN_OR_RETURN(std::vector<Looked> looked, LookUpIssuances(conn_, station_id_, {{"", "", r}}, lock_));
    known_ = std::move(looked.front());
  }
  prefetched_ = Prefetched{r.spki_sha256, r.profile, r.device_id, known_->key, known_->device};
  // The stored record came first; the batch's own only when there is none.
  if (!prefetched_->key) prefetched_->key = own_key_;
  if (!prefetched_->device) prefetched_->device = own_device_;
  return {};
}

Result<std::optional<ReservationRows::Issued>> PgReservationRows::KeyIssued(const std::string& spki_sha256) {
  if (!prefetched_ || prefetched_->spki_sha256 != spki_sha256)
    return MakeError(Code::kInternal, "STORE_MISUSED", "a key looked up without Prefetch");
  return prefetched_->key;
}

Result<std::optional<ReservationRows::Issued>> PgReservationRows::DeviceIssued(const std::string& profile,
                                                                               const std::string& device_id) {
  if (!prefetched_ || prefetched_->profile != profile || prefetched_->device_id != device_id)
    return MakeError(Code::kInternal, "STORE_MISUSED", "a device looked up without Prefetch");
  return prefetched_->device;
}

Result<std::optional<std::string>> PgReservationRows::OpenLot(const std::string& profile,
                                                              const std::string& device_id) {
  ST_ASSIGN_OR_RETURN(Rows rows, Run(conn_,
                                     "SELECT d.lot FROM lot_device d JOIN lot l ON l.name = d.lot "
                                     "WHERE d.profile = $1 AND d.device_id = $2 AND l.state = 'open' LIMIT 1",
                                     Params(profile, device_id), "looking up a lot"));
  if (PQntuples(rows.get()) == 0) return std::optional<std::string>();
  return std::optional<std::string>(Text(rows.get(), 0, 0));
}

Result<std::optional<ReservationRows::MintedCode>> PgReservationRows::FindCode(const std::string& code_sha256) {
  // FOR UPDATE waits for a batch that is using the code, then reads its use.
  ST_ASSIGN_OR_RETURN(Rows rows, Run(conn_,
                                     std::string("SELECT profile, expires_unix_ms, used_station, used_seq "
                                                 "FROM registration_code WHERE code_sha256 = $1") +
                                         (lock_ ? " FOR UPDATE" : ""),
                                     Params(code_sha256), "looking up a registration code"));
  if (PQntuples(rows.get()) == 0) return std::optional<MintedCode>();
  MintedCode code{Text(rows.get(), 0, 0), Int(rows.get(), 0, 1), std::nullopt};
  if (!IsNull(rows.get(), 0, 3)) {
    std::string station = Text(rows.get(), 0, 2);
    if (station == station_id_) station.clear();
    code.used_by = Issued{static_cast<uint64_t>(Int(rows.get(), 0, 3)), std::move(station)};
  }
  return std::optional<MintedCode>(std::move(code));
}

Status PgReservationRows::UseCode(const std::string& code_sha256, uint64_t seq) {
  ST_RETURN_IF_ERROR(Writing());
  ST_ASSIGN_OR_RETURN(Rows used, Run(conn_,
                                     "UPDATE registration_code SET used_station = $2, used_seq = $3 "
                                     "WHERE code_sha256 = $1 AND used_seq IS NULL",
                                     Params(code_sha256, station_id_, seq), "using up a registration code"));
  // The row lock of FindCode makes this certain; the count makes it checked.
  if (std::string(PQcmdTuples(used.get())) != "1")
    return MakeError(Code::kPermissionDenied, "DEVICE_NOT_AUTHORIZED",
                     "the registration code was used already (by another station at the same moment); "
                     "a code works once");
  return {};
}

Result<std::optional<ReservationRows::ReissueApproval>> PgReservationRows::LiveReissueApproval(
    const std::string& profile, const std::string& device_id, int64_t now_unix_ms) {
  ST_ASSIGN_OR_RETURN(Rows rows, Run(conn_,
                                     "SELECT id, approved_by FROM reissue_approval WHERE profile = $1 AND "
                                     "device_id = $2 AND used_seq IS NULL AND expires_unix_ms > $3 "
                                     "ORDER BY id LIMIT 1",
                                     Params(profile, device_id, now_unix_ms), "looking up a reissue approval"));
  if (PQntuples(rows.get()) == 0) return std::optional<ReissueApproval>();
  return std::optional<ReissueApproval>(ReissueApproval{Int(rows.get(), 0, 0), Text(rows.get(), 0, 1)});
}

Status PgReservationRows::UseReissueApproval(int64_t id, uint64_t seq) {
  ST_RETURN_IF_ERROR(Writing());
  return Execute(conn_, "UPDATE reissue_approval SET used_station = $2, used_seq = $3 WHERE id = $1",
                 Params(id, station_id_, seq), "using up a reissue approval");
}

}  // namespace station::store::pg
