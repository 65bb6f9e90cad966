// The tables the station acts on when it decides whether a certificate may be
// issued (the CA set, who may use a profile, officers' approvals, reissue
// approvals, registration codes, lots), held to the hash-chained log.
//
// Every change to one of them is made in the transaction of an officer record,
// and that record commits to the changed group of rows as it then stands: a
// detail member "state:TABLE:GROUP":"SHA-256". A group is what one change
// rewrites (an issuer's CA set, a profile's lines, one approval, one code
// batch, one lot with its devices). Use marks (used_seq) are left out of the
// digests: they are set by issuance records, and CheckState derives them from
// those records instead.
//
// So a row that no record vouches for, a group changed since its record, or a
// code or approval marked unused although a record used it, is found by
// CheckState: at start-up (the station refuses to open on it) and by
// `stationctl audit verify`.
#pragma once

#include <optional>
#include <string>

#include "station/audit/record.h"
#include "station/store/store.h"

namespace station::audit {

using store::StateProblem;
using store::StateTable;

// Commits `record` to the group as it now stands in the record's batch: adds
// its member to the record's detail (a JSON object). Call it after the
// group's rows are written, in the same batch.
Status CommitState(store::Changes& changes, StateTable table, const std::string& group, AuditRecord& record);

// The first row of a gating table that the log does not explain, if any.
Result<std::optional<StateProblem>> CheckState(store::Store& store);

// DATA_LOSS AUDIT_STATE_BROKEN for a problem CheckState found.
Error StateBroken(const StateProblem& problem);

}  // namespace station::audit
