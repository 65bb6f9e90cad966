#include "station/officer/officer_log.h"

#include <openssl/rand.h>

#include <algorithm>
#include <future>

#include "station/base/text.h"

namespace station::officer {
namespace {

Result<std::string> ActionId() {
  uint8_t raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return MakeError(Code::kInternal, "RANDOM_FAILED", "the random generator failed");
  return Hex(raw, sizeof raw);
}

}  // namespace

Status CheckOfficer(const config::OfficersConfig& officers, const std::string& identity) {
  if (officers.members.empty())
    return MakeError(Code::kFailedPrecondition, "OFFICERS_NOT_CONFIGURED",
                     "this station names no officers; add [officers] members and approvals_required to its config");
  if (std::find(officers.members.begin(), officers.members.end(), identity) == officers.members.end())
    return MakeError(Code::kPermissionDenied, "OFFICER_NOT_MEMBER",
                     "'" + identity + "' is not one of the officers in [officers] members");
  return {};
}

Result<audit::AuditRecord> RecordAction(audit::AuditWriter& writer, audit::AuditRecord draft,
                                        audit::AuditWriter::Effect effect) {
  ST_ASSIGN_OR_RETURN(draft.request_id, ActionId());
  std::promise<Result<audit::AppendOutcome>> promise;
  auto future = promise.get_future();
  writer.AppendAction(std::move(draft), std::move(effect),
                      [&promise](Result<audit::AppendOutcome> outcome) { promise.set_value(std::move(outcome)); });
  ST_ASSIGN_OR_RETURN(audit::AppendOutcome outcome, future.get());
  return outcome.record;
}

std::string JsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) out += (out.size() > 1 ? ",\"" : "\"") + JsonEscape(item) + "\"";
  return out + "]";
}

}  // namespace station::officer
