#include "station/runtime/store_migration.h"

#include "station/audit/state.h"
#include "station/store/sqlite_store.h"

namespace station::runtime {
namespace {

// The log's verdict, as an error unless it is intact.
Result<audit::VerifyReport> Intact(store::Store& log, const audit::NoteKey& key, const std::string& name) {
  ST_ASSIGN_OR_RETURN(audit::VerifyReport report, audit::VerifyLog(log, &key));
  if (!report.problem && !report.state_problem) return report;
  Error e = report.problem ? audit::LogBroken(*report.problem) : audit::StateBroken(*report.state_problem);
  e.message = name + ": " + e.message;
  return e;
}

bool Same(const audit::VerifyReport& a, const audit::VerifyReport& b) {
  if (a.records != b.records || a.checkpoints != b.checkpoints || a.latest.has_value() != b.latest.has_value())
    return false;
  return !a.latest || (a.latest->size == b.latest->size && a.latest->root == b.latest->root);
}

}  // namespace

Result<Migration> MigrateSqliteLog(const std::string& sqlite_path, const store::PostgresOptions& target,
                                   const audit::NoteKey& key) {
  Migration out;
  out.moved_to = "station " + target.station_id + " of " + target.url;
  // Held still from here on: no station commits to the file while it moves.
  ST_ASSIGN_OR_RETURN(std::unique_ptr<store::SqliteMove> move, store::SqliteMove::Begin(sqlite_path));
  ST_ASSIGN_OR_RETURN(std::shared_ptr<store::Store> source, store::OpenSqliteStore(sqlite_path, {.read_write = false}));
  ST_ASSIGN_OR_RETURN(audit::VerifyReport before, Intact(*source, key, sqlite_path));
  ST_ASSIGN_OR_RETURN(out.moved, move->CopyTo(target));

  // The copy, read back as a station reads its log.
  store::PostgresOptions reader = target;
  reader.read_write = false;
  ST_ASSIGN_OR_RETURN(std::shared_ptr<store::Store> copy, store::OpenPostgresStore(reader));
  auto after = Intact(*copy, key, out.moved_to);
  if (after.ok() && !Same(before, *after))
    after = MakeError(Code::kDataLoss, "AUDIT_LOG_BROKEN",
                      out.moved_to + " holds " + std::to_string(after->records) + " records and " +
                          std::to_string(after->checkpoints) + " checkpoints, " + sqlite_path + " " +
                          std::to_string(before.records) + " and " + std::to_string(before.checkpoints));
  if (!after.ok()) {
    Error e = after.error();
    e.message += "; the copy did not verify, so " + sqlite_path + " is left as it was, not marked moved";
    return e;
  }
  out.verified = std::move(*after);
  ST_RETURN_IF_ERROR(move->Finish(out.moved_to));
  return out;
}

}  // namespace station::runtime
