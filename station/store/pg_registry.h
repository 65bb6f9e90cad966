// The registry and station state in PostgreSQL (store/ only): what officers'
// actions change (store.h's Changes), in the batch's transaction, and what the
// station reads back. These rows are shared by every station of the fleet;
// each change names the station and seq of the record that made it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "station/store/pg_db.h"
#include "station/store/rows.h"

namespace station::store::pg {

// Changes, made by record `seq` of station `station`.
Status ReplaceCaSet(PGconn* c, const std::string& station, const std::string& issuer, const std::vector<CaRow>& rows,
                    uint64_t seq);
Status SetProfileLines(PGconn* c, const std::string& station, const std::string& profile, const std::string& lines,
                       uint64_t seq);
Result<std::vector<std::string>> AddApproval(PGconn* c, const std::string& station, const std::string& action_key,
                                             const std::string& officer, int64_t now_unix_ms, int64_t ttl_s,
                                             uint64_t seq);
Status UseApprovals(PGconn* c, const std::string& station, const std::string& action_key, int64_t now_unix_ms,
                    uint64_t seq);
Status ImportLot(PGconn* c, const std::string& station, const LotRow& lot, const std::string& upload_id,
                 int64_t now_unix_ms);
Result<std::string> CloseLot(PGconn* c, const std::string& name);
Status AddCodes(PGconn* c, const std::string& profile, const std::string& batch, const std::vector<CodeRow>& codes);
Status AddReissueApproval(PGconn* c, const std::string& station, const std::string& profile,
                          const std::string& device_id, const std::string& approved_by, int64_t now_unix_ms,
                          int64_t ttl_s, uint64_t seq);

// Staging a lot's ids at `station`, each call in a transaction of its own;
// dropping one upload's, or ("") every upload of the station's.
Status StageLotIds(PGconn* c, const std::string& station, const std::string& upload_id,
                   const std::vector<std::string>& ids);
Status DropLotUpload(PGconn* c, const std::string& station, const std::string& upload_id);

Result<std::vector<CaRow>> CaSets(PGconn* c);
Result<std::map<std::string, std::string>> ProfileLines(PGconn* c);
Result<std::vector<LotSummary>> Lots(PGconn* c);
Result<std::map<std::string, uint64_t>> UnusedCodes(PGconn* c, int64_t now_unix_ms);

// The state check (audit/state.h): the spec's groups and digests
// (state_digest.h), and the first use mark the records do not explain.
// Of a table grouped by record (rows.h), only `station`'s groups.
Result<std::set<std::string>> Groups(PGconn* c, const std::string& station, StateTable table);
Result<std::string> GroupDigest(PGconn* c, const std::string& station, StateTable table, const std::string& group);
Result<std::optional<StateProblem>> CheckUses(PGconn* c);

}  // namespace station::store::pg
