// The rows the store keeps beside the log's records: checkpoints, the CA set,
// profile line sets, lots, registration codes; and what the state check
// (audit/state.h) asks of them.
#pragma once

#include <cstdint>
#include <string>

namespace station::store {

struct StoredCheckpoint {
  uint64_t size = 0;
  int64_t time_unix_ms = 0;
  std::string note;       // the signed C2SP note
  std::string tree_edge;  // CompactRange::Serialize() at this size
};

// How many records the log holds, and the highest seq among them.
struct RecordCount {
  uint64_t records = 0;
  uint64_t highest = 0;
};

// One CA of an issuer's set as officers left it.
struct CaRow {
  std::string issuer;
  std::string key_id;  // hex subjectKeyIdentifier
  std::string key_uri;
  std::string certificate_pem;
  std::string state;   // "staged", "active", "previous", "retired"
  int64_t activate_at_unix_ms = 0;
};

// A production lot; its device ids are staged under an upload id first.
struct LotRow {
  std::string name;
  std::string profile;
  std::string source;       // the file it came from
  std::string imported_by;  // who ran the import
};

struct LotSummary {
  std::string name, profile, state;
  int64_t devices = 0;
  int64_t issued = 0;  // devices of the lot with a certificate of its profile
};

// A registration code as the registry keeps it: only its hash.
struct CodeRow {
  std::string code_sha256;
  int64_t expires_unix_ms = 0;
};

// The tables that gate issuance, each held to the records (audit/state.h).
enum class StateTable { kCaSet, kProfileLines, kApproval, kReissueApproval, kCodeBatch, kLot };
// Each of them, in the order the state check looks at them.
inline constexpr StateTable kStateTables[] = {StateTable::kCaSet,     StateTable::kProfileLines,
                                              StateTable::kApproval,  StateTable::kReissueApproval,
                                              StateTable::kCodeBatch, StateTable::kLot};
const char* StateTableName(StateTable table) noexcept;  // "ca_state", ...
// Whether a table's groups are the records that made them (an approval, a
// reissue approval: the group is the record's seq), so that on a shared store
// each station's log vouches for its own groups of it; the other tables' groups
// (an issuer, a profile, a code batch, a lot) are the fleet's.
bool GroupedByRecord(StateTable table) noexcept;

struct StateProblem {
  std::string table;  // "ca_state", "approval", ...
  std::string group;  // the issuer, profile, approval's seq, batch or lot concerned
  std::string what;   // one sentence for people
};

}  // namespace station::store
