#include "station/audit/state.h"

#include <charconv>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "station/base/text.h"

namespace station::audit {
namespace {

constexpr const char* kMemberPrefix = "state:";

// The key of a commitment's detail member (ReadCommitments reads it back).
std::string MemberKey(StateTable table, const std::string& group) {
  return std::string(kMemberPrefix) + store::StateTableName(table) + ":" + group;
}

struct Commitment {
  uint64_t seq = 0;
  std::string digest;
  bool own = true;  // made by this station's log
};
using Commitments = std::map<std::pair<std::string, std::string>, Commitment>;  // (table, group)

// Reads the "state:TABLE:GROUP":"HEX" members of one detail. A member starts
// after '{' or ',' outside any string: inside a string a quote is escaped.
void ReadCommitments(uint64_t seq, bool own, const std::string& detail, Commitments& out) {
  const std::string opener = std::string("\"") + kMemberPrefix;
  for (size_t at = detail.find(opener); at != std::string::npos; at = detail.find(opener, at + 1)) {
    if (at == 0 || (detail[at - 1] != '{' && detail[at - 1] != ',')) continue;
    std::string key;
    size_t i = at + 1;
    for (; i < detail.size() && detail[i] != '"'; ++i) {
      if (detail[i] != '\\' || i + 1 >= detail.size()) {
        key.push_back(detail[i]);
        continue;
      }
      // Undoes JsonEscape: \" \\ \n \r \t and \u00XX.
      const char escaped = detail[++i];
      if (escaped == 'n' || escaped == 'r' || escaped == 't') {
        key.push_back(escaped == 'n' ? '\n' : escaped == 'r' ? '\r' : '\t');
      } else if (escaped == 'u' && i + 4 < detail.size()) {
        unsigned value = 0;  // JsonEscape writes \u00XX for control bytes and bytes not UTF-8
        std::from_chars(detail.data() + i + 3, detail.data() + i + 5, value, 16);
        key.push_back(static_cast<char>(value));
        i += 4;
      } else {
        key.push_back(escaped);
      }
    }
    if (detail.compare(i, 3, "\":\"") != 0 || i + 3 + 64 >= detail.size() || detail[i + 3 + 64] != '"') continue;
    const std::string rest = key.substr(std::char_traits<char>::length(kMemberPrefix));
    const size_t colon = rest.find(':');
    if (colon == std::string::npos) continue;
    out[{rest.substr(0, colon), rest.substr(colon + 1)}] = Commitment{seq, detail.substr(i + 3, 64), own};
  }
}

bool GroupedByRecord(const std::string& table_name) {
  for (StateTable table : store::kStateTables)
    if (table_name == store::StateTableName(table)) return store::GroupedByRecord(table);
  return false;
}

Result<Commitments> ReadAllCommitments(store::Store& store) {
  Commitments out;
  ST_RETURN_IF_ERROR(store.ForEachOfficerRecord([&out](const AuditRecord& r, bool own) {
    // Another station's approvals are its log's to vouch for, not ours.
    Commitments made;
    ReadCommitments(r.seq, own, r.detail, made);
    for (auto& [key, commitment] : made)
      if (own || !GroupedByRecord(key.first)) out[key] = std::move(commitment);
  }));
  return out;
}

}  // namespace

Status CommitState(store::Changes& changes, StateTable table, const std::string& group, AuditRecord& record) {
  ST_ASSIGN_OR_RETURN(std::string digest, changes.GroupDigest(table, group));
  std::string member = "\"" + JsonEscape(MemberKey(table, group)) + "\":\"" + digest + "\"";
  if (record.detail.size() < 2) record.detail = "{}";
  const bool empty = record.detail == "{}";
  record.detail.insert(record.detail.size() - 1, (empty ? "" : ",") + member);
  return {};
}

Result<std::optional<StateProblem>> CheckState(store::Store& store) {
  ST_ASSIGN_OR_RETURN(Commitments committed, ReadAllCommitments(store));
  for (StateTable table : store::kStateTables) {
    const std::string name = store::StateTableName(table);
    ST_ASSIGN_OR_RETURN(std::set<std::string> groups, store.Groups(table));
    for (const auto& [key, commitment] : committed)
      if (key.first == name) groups.insert(key.second);
    for (const std::string& group : groups) {
      ST_ASSIGN_OR_RETURN(std::string digest, store.GroupDigest(table, group));
      auto found = committed.find({name, group});
      if (found == committed.end())
        return std::optional<StateProblem>(
            StateProblem{name, group, "rows that no audit record vouches for (not made by an officer record)"});
      if (found->second.digest != digest)
        return std::optional<StateProblem>(StateProblem{
            name, group, "rows that differ from what audit record " + std::to_string(found->second.seq) +
                             (found->second.own ? "" : " of another station's log") +
                             " made them"});
    }
  }
  return store.CheckUses();
}

Error StateBroken(const StateProblem& problem) {
  return MakeError(Code::kDataLoss, "AUDIT_STATE_BROKEN",
                   problem.table + " '" + problem.group + "': " + problem.what +
                       ". The station will not issue on a registry the log does not explain: keep the database as "
                       "evidence and run `stationctl audit verify` for the full report");
}

}  // namespace station::audit
