#include "station/store/pg_batch.h"

#include <algorithm>

#include "station/store/pg_registry.h"
#include "station/store/pg_reservation.h"

namespace station::store::pg {
namespace {

// Held-back records a multi-row INSERT writes at a time: each row count is a
// statement prepared on the connection, so the count of them stays small.
constexpr size_t kRowsPerInsert = 64;

std::string Pair(const std::string& a, const std::string& b) { return a + '\x01' + b; }

bool LosesTransaction(const Error& e) {
  return e.fault == Fault::kStoreConflict || e.fault == Fault::kStoreUnreachable;
}

// A unique violation of the issuance table, as the refusal of its record.
Error Collision(const std::string& constraint, const AuditRecord& record) {
  if (constraint == "issuance_key_once")
    return MakeError(Code::kFailedPrecondition, "DUPLICATE_KEY",
                     "this public key was certified at the same moment for another request; every device must "
                     "generate its own key");
  if (constraint == "issuance_caller_request_id_key")
    return MakeError(Code::kAborted, "REQUEST_IN_FLIGHT",
                     "request_id '" + record.request_id + "' is being answered by another station; retry it");
  return MakeError(Code::kInternal, "SERIAL_COLLISION",
                   "serial " + record.serial_hex + " was issued before; retry the request");
}

}  // namespace

PgBatch::~PgBatch() {
  if (!done_ && PQtransactionStatus(c_) != PQTRANS_IDLE) (void)Execute(c_, "ROLLBACK", Params(), "ROLLBACK");
}

template <typename R>
R PgBatch::Watch(R result) {
  if (!result.ok() && LosesTransaction(result.error()) && !lost_) {
    lost_ = true;
    lost_error_ = result.error();
    (void)Execute(c_, "ROLLBACK", Params(), "ROLLBACK");
  }
  return result;
}

Status PgBatch::Expect(const std::vector<IssuanceAsked>& requests) {
  if (requests.empty()) return {};
  ST_ASSIGN_OR_RETURN(std::vector<Looked> looked, Watch(LookUpIssuances(c_, station_, requests, true)));
  for (size_t i = 0; i < requests.size(); ++i) {
    const policy::Reservation& r = requests[i].reservation;
    looked_keys_.emplace(r.spki_sha256, looked[i].key);
    looked_devices_.emplace(Pair(r.profile, r.device_id), looked[i].device);
    looked_requests_.emplace(Pair(requests[i].caller, requests[i].request_id), looked[i].request_found);
  }
  return {};
}

Result<std::optional<AuditRecord>> PgBatch::FindByRequest(const std::string& caller, const std::string& request_id) {
  const std::string request = Pair(caller, request_id);
  if (auto own = own_requests_.find(request); own != own_requests_.end())
    return std::optional<AuditRecord>(own_[own->second]);
  if (auto looked = looked_requests_.find(request); looked != looked_requests_.end() && !looked->second)
    return std::optional<AuditRecord>();
  return Watch(FindIssuanceByRequest(c_, caller, request_id));
}

Result<std::string> PgBatch::Reserve(const policy::Reservation& r, int64_t now_unix_ms, uint64_t seq) {
  PgReservationRows rows(c_, station_, true);
  const std::string device = Pair(r.profile, r.device_id);
  auto key = looked_keys_.find(r.spki_sha256);
  auto dev = looked_devices_.find(device);
  if (key != looked_keys_.end() && dev != looked_devices_.end()) rows.Know(Looked{key->second, dev->second});
  auto own = [this](const std::unordered_map<std::string, size_t>& by, const std::string& what) {
    auto found = by.find(what);
    return found == by.end() ? std::optional<Issued>() : std::optional<Issued>(Issued{own_[found->second].seq, ""});
  };
  rows.AlsoOwn(own(own_keys_, r.spki_sha256), own(own_devices_, device));
  rows.BeforeWriting([this] { return Writing(); });
  ST_ASSIGN_OR_RETURN(std::string authorization, Watch(CheckReservation(rows, r, now_unix_ms, seq)));
  reserved_keys_.insert(r.spki_sha256);
  return authorization;
}

Status PgBatch::Append(const AuditRecord& record) {
  if (record.kind == RecordKind::kOfficer) {
    ST_RETURN_IF_ERROR(Writing());
    // Officer records of the fleet commit one at a time, in fleet_order.
    ST_RETURN_IF_ERROR(Watch(Execute(c_, "SELECT pg_advisory_xact_lock(hashtextextended('officer-order', 0))",
                                     Params(), "waiting for another station's officer record")));
    return InsertNow(record);
  }
  if (own_serials_.count(record.serial_hex)) return Collision("issuance_serial_hex_key", record);
  if (own_keys_.count(record.spki_sha256)) return Collision("issuance_key_once", record);
  // Held back only when this batch holds the locks of its key and device.
  if (careful_ || !reserved_keys_.count(record.spki_sha256)) {
    ST_RETURN_IF_ERROR(Writing());
    ST_RETURN_IF_ERROR(InsertNow(record));
  } else {
    held_.push_back(own_.size());
  }
  Own(record);
  return {};
}

Status PgBatch::InsertNow(const AuditRecord& record) {
  Rows rows = Send(c_, InsertRecordSql(record.kind), RecordParams(station_, record));
  if (PQresultStatus(rows.get()) == PGRES_COMMAND_OK) return {};
  if (record.kind == RecordKind::kIssuance && SqlState(rows.get()) == "23505")
    return Collision(Constraint(rows.get()), record);
  return Watch(Failure(c_, rows.get(), "appending audit record"));
}

void PgBatch::Own(const AuditRecord& record) {
  const size_t at = own_.size();
  own_.push_back(record);
  own_keys_.emplace(record.spki_sha256, at);
  own_devices_.emplace(Pair(record.profile, record.device_id), at);
  own_requests_.emplace(Pair(record.caller, record.request_id), at);
  own_serials_.emplace(record.serial_hex, at);
}

void PgBatch::ForgetOwnFrom(size_t first) {
  auto forget = [first](std::unordered_map<std::string, size_t>& by, const std::string& what) {
    auto found = by.find(what);
    if (found != by.end() && found->second >= first) by.erase(found);
  };
  for (size_t i = first; i < own_.size(); ++i) {
    forget(own_keys_, own_[i].spki_sha256);
    forget(own_devices_, Pair(own_[i].profile, own_[i].device_id));
    forget(own_requests_, Pair(own_[i].caller, own_[i].request_id));
    forget(own_serials_, own_[i].serial_hex);
  }
  own_.resize(first);
  held_.erase(std::remove_if(held_.begin(), held_.end(), [first](size_t i) { return i >= first; }), held_.end());
}

Status PgBatch::Writing() {
  ST_RETURN_IF_ERROR(Flush());
  if (!step_open_ || step_saved_) return {};
  // One savepoint rolls along the batch: a step releases the one before it.
  const char* set = savepoint_ ? "RELEASE SAVEPOINT record; SAVEPOINT record" : "SAVEPOINT record";
  ST_RETURN_IF_ERROR(Watch(Script(c_, set, "setting a savepoint")));
  savepoint_ = step_saved_ = true;
  return {};
}

Status PgBatch::Flush() {
  for (size_t from = 0; from < held_.size(); from += kRowsPerInsert) {
    const size_t count = std::min(kRowsPerInsert, held_.size() - from);
    Params params;
    for (size_t i = from; i < from + count; ++i) AddRecordParams(params, station_, own_[held_[i]]);
    Rows rows = Send(c_, InsertIssuancesSql(count), params);
    if (PQresultStatus(rows.get()) == PGRES_COMMAND_OK) continue;
    if (SqlState(rows.get()) != "23505") return Watch(Failure(c_, rows.get(), "appending audit records"));
    *collided_ = true;
    return Watch(MakeFault(Fault::kStoreConflict, Code::kAborted, "STORE_CONFLICT",
                           "a record held back for the commit collided with a stored one (" + Constraint(rows.get()) +
                               "); the batch runs again, record by record"));
  }
  held_.clear();
  return {};
}

Status PgBatch::Atomically(const std::function<Status()>& step) {
  const size_t own_before = own_.size();
  step_open_ = true;
  step_saved_ = false;
  Status status = step();
  step_open_ = false;
  if (status.ok() || lost_) return status;
  // A failed statement left the transaction aborted: only its savepoint, if
  // the step set one, brings it back.
  if (step_saved_) (void)Watch(Script(c_, "ROLLBACK TO SAVEPOINT record", "undoing a record"));
  ForgetOwnFrom(own_before);
  return status;
}

// A conflict with another station or a broken connection loses the whole
// transaction; so does anything that leaves it unusable.
bool PgBatch::lost() const {
  if (done_) return false;
  const PGTransactionStatusType status = PQtransactionStatus(c_);
  return lost_ || PQstatus(c_) != CONNECTION_OK || status == PQTRANS_IDLE || status == PQTRANS_INERROR;
}

Status PgBatch::Commit() {
  if (!lost()) ST_RETURN_IF_ERROR(Flush());  // the destructor rolls back what failed
  if (lost()) {
    done_ = true;
    return lost_error_ ? *lost_error_
                       : MakeFault(Fault::kStoreUnreachable, Code::kUnavailable, "STORE_UNAVAILABLE",
                                   "the shared store dropped the batch's transaction; retry shortly");
  }
  auto committed = Run(c_, "COMMIT", Params(), "committing audit records");
  done_ = true;
  if (!committed.ok()) return committed.error();
  // COMMIT of a transaction that failed answers ROLLBACK, not an error.
  if (std::string(PQcmdStatus(committed->get())) != "COMMIT")
    return MakeError(Code::kUnavailable, "AUDIT_UNAVAILABLE", "the shared store rolled the batch back");
  return {};
}

// Officers' changes write, and may read what held-back records would change.
Status PgBatch::ReplaceCaSet(const std::string& issuer, const std::vector<CaRow>& rows, uint64_t seq) {
  ST_RETURN_IF_ERROR(Writing());
  return Watch(pg::ReplaceCaSet(c_, station_, issuer, rows, seq));
}
Status PgBatch::SetProfileLines(const std::string& profile, const std::string& lines, uint64_t seq) {
  ST_RETURN_IF_ERROR(Writing());
  return Watch(pg::SetProfileLines(c_, station_, profile, lines, seq));
}
Result<std::vector<std::string>> PgBatch::AddApproval(const std::string& action_key, const std::string& officer,
                                                      int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) {
  ST_RETURN_IF_ERROR(Writing());
  return Watch(pg::AddApproval(c_, station_, action_key, officer, now_unix_ms, ttl_s, seq));
}
Status PgBatch::UseApprovals(const std::string& action_key, int64_t now_unix_ms, uint64_t seq) {
  ST_RETURN_IF_ERROR(Writing());
  return Watch(pg::UseApprovals(c_, station_, action_key, now_unix_ms, seq));
}
Status PgBatch::ImportLot(const LotRow& lot, const std::string& upload_id, int64_t now_unix_ms) {
  ST_RETURN_IF_ERROR(Writing());
  return Watch(pg::ImportLot(c_, station_, lot, upload_id, now_unix_ms));
}
Result<std::string> PgBatch::CloseLot(const std::string& name) {
  ST_RETURN_IF_ERROR(Writing());
  return Watch(pg::CloseLot(c_, name));
}
Status PgBatch::AddCodes(const std::string& profile, const std::string& batch, const std::vector<CodeRow>& codes) {
  ST_RETURN_IF_ERROR(Writing());
  return Watch(pg::AddCodes(c_, profile, batch, codes));
}
Status PgBatch::AddReissueApproval(const std::string& profile, const std::string& device_id,
                                   const std::string& approved_by, int64_t now_unix_ms, int64_t ttl_s, uint64_t seq) {
  ST_RETURN_IF_ERROR(Writing());
  return Watch(pg::AddReissueApproval(c_, station_, profile, device_id, approved_by, now_unix_ms, ttl_s, seq));
}
Result<std::string> PgBatch::GroupDigest(StateTable table, const std::string& group) {
  ST_RETURN_IF_ERROR(Flush());
  return Watch(pg::GroupDigest(c_, station_, table, group));
}

}  // namespace station::store::pg
