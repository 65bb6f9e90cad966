// Two-person control: an action that needs k officers happens when the k-th
// distinct officer approves it within the approval time. Each approval is a
// row here and an officer record in the audit log; the approvals that let an
// action happen are used up by it, so the next one needs k fresh approvals.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "station/base/error.h"

namespace station::officer {

// Records `officer`'s approval of the action `action_key` (its canonical
// text), good until now + ttl, with its audit record `seq`; returns the
// distinct officers whose approvals of it are live now, in the order they
// approved, this one included. An officer approving twice counts once (the
// later approval renews the time).
Result<std::vector<std::string>> AddApproval(sqlite3* db, const std::string& action_key, const std::string& officer,
                                             int64_t now_unix_ms, int64_t ttl_s, uint64_t seq);

// Marks the live approvals of `action_key` used by the action's record `seq`.
Status UseApprovals(sqlite3* db, const std::string& action_key, int64_t now_unix_ms, uint64_t seq);

}  // namespace station::officer
