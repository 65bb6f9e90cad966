// One group commit on the shared store (store/ only): BEGIN ... COMMIT on the
// writer's connection, READ COMMITTED, the reservation's locks ordering
// stations that race for one device, key or request id.
//
// Round trips are what a batch costs the database, so a batch saves them:
// - told the batch's requests first (Expect), one statement locks every key,
//   device and request id of the batch and looks them all up; FindByRequest
//   and Reserve answer from that and from the batch's own records;
// - an issuance record whose key and device this batch reserved is held back
//   and written with the others in multi-row INSERTs at Commit;
// - a step sets its savepoint only before its first write, so a step that
//   only reads and holds a record back sets none.
// The locks leave a held-back record only one collision: a serial drawn
// twice. Should one come at Commit, the batch is lost as ABORTED
// STORE_CONFLICT and the writer runs it again, and the next batch writes each
// record at once (`careful`), where a collision refuses that record alone.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "station/store/pg_db.h"
#include "station/store/reservation_check.h"
#include "station/store/store.h"

namespace station::store::pg {

class PgBatch final : public Batch {
 public:
  // `collided` is set when a held-back record collided at Commit: the store's
  // next batch is then careful.
  PgBatch(PGconn* c, const std::string& station, bool careful, bool* collided)
      : c_(c), station_(station), careful_(careful), collided_(collided) {}
  ~PgBatch() override;

  Status Expect(const std::vector<IssuanceAsked>& requests) override;
  Result<std::optional<AuditRecord>> FindByRequest(const std::string& caller, const std::string& request_id) override;
  Result<std::string> Reserve(const policy::Reservation& reservation, int64_t now_unix_ms, uint64_t seq) override;
  Status Append(const AuditRecord& record) override;
  Status Atomically(const std::function<Status()>& step) override;
  bool lost() const override;
  Status Commit() override;

  Status ReplaceCaSet(const std::string& issuer, const std::vector<CaRow>& rows, uint64_t seq) override;
  Status SetProfileLines(const std::string& profile, const std::string& lines, uint64_t seq) override;
  Result<std::vector<std::string>> AddApproval(const std::string& action_key, const std::string& officer,
                                               int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) override;
  Status UseApprovals(const std::string& action_key, int64_t now_unix_ms, uint64_t seq) override;
  Status ImportLot(const LotRow& lot, const std::string& upload_id, int64_t now_unix_ms) override;
  Result<std::string> CloseLot(const std::string& name) override;
  Status AddCodes(const std::string& profile, const std::string& batch, const std::vector<CodeRow>& codes) override;
  Status AddReissueApproval(const std::string& profile, const std::string& device_id, const std::string& approved_by,
                            int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) override;
  Result<std::string> GroupDigest(StateTable table, const std::string& group) override;

 private:
  using Issued = ReservationRows::Issued;

  // Before a statement that writes: held-back records first, then this
  // step's savepoint if it has none yet.
  Status Writing();
  // Writes the held-back records.
  Status Flush();
  Status InsertNow(const AuditRecord& record);
  // The batch's own issuance records, and what they hold.
  void Own(const AuditRecord& record);
  void ForgetOwnFrom(size_t first);

  // Notes an error that lost the whole transaction, and passes it on.
  template <typename R>
  R Watch(R result);
  Status Watch(Error e) { return Watch(Status(std::move(e))); }

  PGconn* c_;
  const std::string& station_;
  const bool careful_;
  bool* collided_;

  // What Expect found, by key, by profile and device, by caller and request id.
  std::unordered_map<std::string, std::optional<Issued>> looked_keys_, looked_devices_;
  std::unordered_map<std::string, bool> looked_requests_;
  std::unordered_set<std::string> reserved_keys_;  // keys this batch locked and found free

  std::vector<AuditRecord> own_;  // in the order appended
  std::unordered_map<std::string, size_t> own_keys_, own_devices_, own_requests_, own_serials_;
  std::vector<size_t> held_;  // own_ not yet written

  bool step_open_ = false;
  bool step_saved_ = false;  // the open step has its savepoint
  bool savepoint_ = false;   // one is set
  bool done_ = false;
  bool lost_ = false;
  std::optional<Error> lost_error_;
};

}  // namespace station::store::pg
