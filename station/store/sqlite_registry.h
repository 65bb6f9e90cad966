// The registry and station state in SQLite (store/ only): what officers'
// actions change (store.h's Changes) and what the station reads back.
#pragma once

#include <sqlite3.h>

#include <map>
#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/store/rows.h"

namespace station::store::sqlite {

Status ReplaceCaSet(sqlite3* db, const std::string& issuer, const std::vector<CaRow>& rows, uint64_t seq);
Status SetProfileLines(sqlite3* db, const std::string& profile, const std::string& lines, uint64_t seq);
Result<std::vector<std::string>> AddApproval(sqlite3* db, const std::string& action_key, const std::string& officer,
                                             int64_t now_unix_ms, int64_t ttl_s, uint64_t seq);
Status UseApprovals(sqlite3* db, const std::string& action_key, int64_t now_unix_ms, uint64_t seq);
Status ImportLot(sqlite3* db, const LotRow& lot, const std::string& upload_id, int64_t now_unix_ms);
Result<std::string> CloseLot(sqlite3* db, const std::string& name);
Status AddCodes(sqlite3* db, const std::string& profile, const std::string& batch, const std::vector<CodeRow>& codes);
Status AddReissueApproval(sqlite3* db, const std::string& profile, const std::string& device_id,
                          const std::string& approved_by, int64_t now_unix_ms, int64_t ttl_s, uint64_t seq);

Status StageLotIds(sqlite3* db, const std::string& upload_id, const std::vector<std::string>& ids);
Status DropLotUpload(sqlite3* db, const std::string& upload_id);

Result<std::vector<CaRow>> CaSets(sqlite3* db);
Result<std::map<std::string, std::string>> ProfileLines(sqlite3* db);
Result<std::vector<LotSummary>> Lots(sqlite3* db);
Result<std::map<std::string, uint64_t>> UnusedCodes(sqlite3* db, int64_t now_unix_ms);

}  // namespace station::store::sqlite
