// The gating tables' groups and how a group's rows are hashed, the same for
// every store (audit/state.h says what the digests are for). The SQL here is
// plain enough for SQLite and PostgreSQL alike: $1 is the group.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/base/ossl.h"
#include "station/store/rows.h"

namespace station::store {

// What one table's groups are and which rows make one group, in a fixed
// order: every column but the use marks.
struct StateSpec {
  const char* name;
  const char* groups_sql;
  std::vector<const char*> rows_sql;  // $1 = the group
  // Tables grouped by record, on a shared store: one station's groups and
  // rows ($2 = the station). nullptr for the fleet's tables.
  const char* station_groups_sql = nullptr;
  std::vector<const char*> station_rows_sql = {};
};
const StateSpec& StateSpecOf(StateTable table);

// The checks of use marks (Store::CheckUses), the same in every store: how an
// issuance record's authorization names what it used up (reservation_check.h:
// "code:HASH16", "lot:NAME", "+reissue:OFFICERS"), held to the marks. Each
// store runs its own SQL for check i, which answers the first row that breaks
// it: (group, seq).
inline constexpr int kUseCheckCount = 6;
struct UseCheck {
  const char* table;
  const char* what;  // '%' is the seq the query answers
};
extern const UseCheck kUseChecks[kUseCheckCount];
// Check `check`'s problem, for the row (group, seq) its query answered.
StateProblem UseProblem(int check, const std::string& group, const std::string& seq);

// Hashes one group: each field as a type octet and an 8-byte big-endian length
// before its bytes, so no two different groups hash alike. A store feeds it
// each row of each of the spec's queries, in order.
class GroupDigester {
 public:
  // INTERNAL DIGEST_FAILED when SHA-256 is unavailable.
  static Result<GroupDigester> Start(const StateSpec& spec, const std::string& group);

  void BeginRow();
  void Null();
  void Value(const void* data, size_t size);
  void EndQuery();  // after each of the spec's queries
  Result<std::string> Finish();

 private:
  explicit GroupDigester(EvpMdCtxPtr ctx) : ctx_(std::move(ctx)) {}
  void Field(uint8_t type, const void* data, size_t size);
  EvpMdCtxPtr ctx_;
};

}  // namespace station::store
