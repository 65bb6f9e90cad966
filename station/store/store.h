// The station's store: every statement the station makes about its data goes
// through these interfaces, and only store/ speaks SQL. SQLite (sqlite_store.h)
// is the embedded implementation; a shared database is a second one.
//
// The contract every implementation keeps:
// - Durable means committed: Batch::Commit and AddCheckpoint return only when
//   a crash can no longer lose what they wrote (SQLite: an fsync'd WAL).
// - Group commit: the audit writer puts a whole batch of records in one Batch,
//   one transaction, and commits once. Nothing of a batch stands unless all of
//   what it kept stands: after a failed Commit, or once lost() is true, none of
//   it was written.
// - Reserve, then append, in one transaction: a record's Reserve (which uses up
//   a code or approval) and its Append happen inside one Atomically step of
//   the batch, so two stations or two records racing for one device, key, code
//   or approval can never both pass. Reads outside a batch (FindByRequest,
//   CheckReservation) only pre-check; the batch decides.
// - Officers' changes (Changes) are made only inside the batch of the record
//   that makes them, and commit to their rows (audit/state.h).
// - Every failure to read or write is UNAVAILABLE AUDIT_UNAVAILABLE, naming
//   what failed (UNAVAILABLE STORE_UNAVAILABLE when a shared store cannot be
//   reached); refusals carry their own reasons (below). A shared store that
//   lost a batch to another station's (ABORTED STORE_CONFLICT) lost all of it:
//   the writer runs the batch again.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/policy/reservation.h"
#include "station/store/record.h"
#include "station/store/rows.h"

namespace station::store {

// What officers' actions change, each inside the batch of its record.
class Changes {
 public:
  virtual ~Changes() = default;

  // Replaces `issuer`'s CA set with `rows`, noting the officer record `seq`.
  virtual Status ReplaceCaSet(const std::string& issuer, const std::vector<CaRow>& rows, uint64_t seq) = 0;
  // Sets who may use `profile` (caller identities, one per line, sorted).
  virtual Status SetProfileLines(const std::string& profile, const std::string& lines, uint64_t seq) = 0;

  // Records `officer`'s approval of `action_key`, good until now + ttl; returns
  // the distinct officers whose approvals of it are live now, in the order
  // they approved, this one included.
  virtual Result<std::vector<std::string>> AddApproval(const std::string& action_key, const std::string& officer,
                                                       int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) = 0;
  // Marks the live approvals of `action_key` used by the action's record `seq`.
  virtual Status UseApprovals(const std::string& action_key, int64_t now_unix_ms, uint64_t seq) = 0;

  // The lot, with the ids staged under `upload_id` (which it moves);
  // ALREADY_EXISTS LOT_EXISTS when the name is taken.
  virtual Status ImportLot(const LotRow& lot, const std::string& upload_id, int64_t now_unix_ms) = 0;
  // Closes a lot and answers its profile; NOT_FOUND LOT_NOT_FOUND.
  virtual Result<std::string> CloseLot(const std::string& name) = 0;
  // Stores minted codes' hashes under `batch`.
  virtual Status AddCodes(const std::string& profile, const std::string& batch, const std::vector<CodeRow>& codes) = 0;
  // Lets one more certificate be issued for a device of a one-per-device
  // profile, within ttl: the officers' approval record `seq` made it.
  virtual Status AddReissueApproval(const std::string& profile, const std::string& device_id,
                                    const std::string& approved_by, int64_t now_unix_ms, int64_t ttl_s,
                                    uint64_t seq) = 0;

  // The digest of one group of a gating table as it now stands (audit/state.h).
  virtual Result<std::string> GroupDigest(StateTable table, const std::string& group) = 0;
};

// An issuance request as the registry sees it: whose request id, and what
// it would reserve.
struct IssuanceAsked {
  std::string caller, request_id;
  policy::Reservation reservation;
};

// One group commit of the audit log: one transaction (see the contract above).
class Batch : public Changes {
 public:
  // The issuance requests the batch is about to take, in order. Told them
  // all first, a shared store looks up (and locks) every request id, key and
  // device of the batch in one round trip instead of several per record;
  // FindByRequest and Reserve then answer from that. The embedded store has
  // no round trips to save and ignores it.
  virtual Status Expect(const std::vector<IssuanceAsked>&) { return {}; }
  // The issuance a caller's request_id produced, this batch's own included.
  virtual Result<std::optional<AuditRecord>> FindByRequest(const std::string& caller,
                                                           const std::string& request_id) = 0;
  // Checks the reservation and uses up the code or reissue approval it takes,
  // as record `seq`; answers how the device was authorized ("lot:L1",
  // "code:HASH16", "+reissue:officer-1", or ""). Refusals: FAILED_PRECONDITION
  // DUPLICATE_KEY or DUPLICATE_DEVICE, PERMISSION_DENIED DEVICE_NOT_AUTHORIZED.
  virtual Result<std::string> Reserve(const policy::Reservation& reservation, int64_t now_unix_ms,
                                      uint64_t seq) = 0;
  // Appends a finished record (seq, hashes and all); INTERNAL SERIAL_COLLISION
  // when its serial was issued before. A store may hold a reserved issuance
  // record back and write it at Commit; a collision found only then costs the
  // whole batch a run again (ABORTED STORE_CONFLICT), never a wrong answer.
  virtual Status Append(const AuditRecord& record) = 0;
  // Runs `step` all or nothing: when it fails, what it wrote is undone and
  // the batch goes on without it.
  virtual Status Atomically(const std::function<Status()>& step) = 0;
  // The store dropped the whole transaction (a full disk, an I/O error):
  // nothing of the batch stands, and nothing more may be added to it.
  virtual bool lost() const = 0;
  // Makes the batch durable; on failure none of it stands.
  virtual Status Commit() = 0;
};

// FAILED_PRECONDITION STORE_READ_ONLY: `doing` needs a store opened read-write.
Error ReadOnlyStore(const char* doing);

class Store {
 public:
  virtual ~Store() = default;

  // --- writing: the audit writer's thread only ---
  // A new batch (one at a time). FAILED_PRECONDITION on a read-only store.
  virtual Result<std::unique_ptr<Batch>> Begin() = 0;
  // A signed checkpoint, in a transaction of its own.
  virtual Status AddCheckpoint(const StoredCheckpoint& checkpoint) = 0;

  // --- a lot's ids as they arrive, before the record that makes the lot ---
  // In a transaction of their own: INVALID_ARGUMENT LOT_INVALID for an id
  // already staged under `upload_id`.
  virtual Status StageLotIds(const std::string& upload_id, const std::vector<std::string>& ids) = 0;
  // Removes an upload's staged ids, or every upload's ("").
  virtual Status DropLotUpload(const std::string& upload_id) = 0;

  // --- reading: any thread ---
  virtual Result<std::optional<AuditRecord>> FindByRequest(const std::string& caller,
                                                           const std::string& request_id) = 0;
  // Batch::Reserve without using anything up: the pipeline's check before
  // signing, so doomed requests never reach the token.
  virtual Result<std::string> CheckReservation(const policy::Reservation& reservation, int64_t now_unix_ms) = 0;
  // The pipeline's look before signing, both in one, for several requests at
  // once: for each, the issuance its caller's request_id produced, if any
  // (`earlier`); else `authorization`, the reservation checked as
  // CheckReservation does. One answer per request, in order. A shared store
  // answers them all in one round trip; this default asks each request's two
  // questions in turn.
  struct Look {
    std::optional<AuditRecord> earlier;
    Result<std::string> authorization = std::string();
  };
  virtual std::vector<Result<Look>> LookBeforeSigning(const std::vector<IssuanceAsked>& requests,
                                                      int64_t now_unix_ms);
  // Each record (both kinds) with seq > after_seq, in seq order, until `fn`
  // returns false.
  virtual Status ForEachRecord(uint64_t after_seq, const std::function<bool(const AuditRecord&)>& fn) = 0;
  // Each officer record in the order they committed (what the state check
  // reads): this station's, and on a shared store every station's, `own`
  // telling them apart (rows.h: tables grouped by record are each station's).
  virtual Status ForEachOfficerRecord(const std::function<void(const AuditRecord&, bool own)>& fn) = 0;
  virtual Result<RecordCount> CountRecords() = 0;
  // A number that grows whenever an officer record commits: any station's on
  // a shared store, this station's own on the embedded one. While it stands
  // still, so do the CA sets and profile line sets (only officer records
  // change them).
  virtual Result<uint64_t> OfficerVersion() = 0;
  // The stations whose logs this store holds (a shared store), sorted; the
  // embedded store holds only its own, and answers "".
  virtual Result<std::vector<std::string>> Stations() = 0;
  // The seq of the record whose record_hash is `hash`, if one is stored (a
  // full scan: for naming what went wrong in a broken log).
  virtual Result<std::optional<uint64_t>> FindSeqByHash(const std::string& hash) = 0;
  // The seq of the issuance with this serial (lowercase hex), if any.
  virtual Result<std::optional<uint64_t>> FindSeqBySerial(const std::string& serial_hex) = 0;
  // Checkpoints in size order (only the latest when `latest_only`).
  virtual Result<std::vector<StoredCheckpoint>> Checkpoints(bool latest_only) = 0;

  virtual Result<std::vector<CaRow>> CaSets() = 0;
  virtual Result<std::map<std::string, std::string>> ProfileLines() = 0;  // profile -> lines
  virtual Result<std::vector<LotSummary>> Lots() = 0;
  // Registration codes neither used nor expired at `now_unix_ms`, by profile.
  virtual Result<std::map<std::string, uint64_t>> UnusedCodes(int64_t now_unix_ms) = 0;

  // --- the state check (audit/state.h) ---
  // The groups a gating table holds rows for.
  virtual Result<std::set<std::string>> Groups(StateTable table) = 0;
  virtual Result<std::string> GroupDigest(StateTable table, const std::string& group) = 0;
  // The first use mark (a code, reissue approval or approval marked used, or
  // a record that used one) that the records do not explain, if any.
  virtual Result<std::optional<StateProblem>> CheckUses() = 0;
};

}  // namespace station::store
