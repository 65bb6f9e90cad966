#include "station/officer/profile_lines.h"

#include <filesystem>

#include "station/audit/sqlite.h"

namespace station::officer {
namespace {

// Identities hold no control characters (policy::LineSetProblem): one per line.
std::string LinesText(const policy::LineSet& lines) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

policy::LineSet ParseLines(const std::string& text) {
  policy::LineSet lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.insert(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

Status WriteProfileLines(sqlite3* db, const std::string& profile, const policy::LineSet& lines, uint64_t seq) {
  ST_ASSIGN_OR_RETURN(audit::Stmt upsert,
                      audit::Prepare(db, "INSERT INTO profile_lines (profile, lines, changed_seq) VALUES (?1, ?2, ?3) "
                                         "ON CONFLICT (profile) DO UPDATE SET lines = ?2, changed_seq = ?3"));
  // BindText does not copy: the text must outlive the step.
  const std::string text = LinesText(lines);
  audit::BindText(upsert.get(), 1, profile);
  audit::BindText(upsert.get(), 2, text);
  sqlite3_bind_int64(upsert.get(), 3, static_cast<sqlite3_int64>(seq));
  if (sqlite3_step(upsert.get()) != SQLITE_DONE) return audit::StorageError(db, "changing a profile's lines");
  return {};
}

Result<std::map<std::string, policy::LineSet>> ReadProfileLines(const std::string& db_path) {
  std::map<std::string, policy::LineSet> out;
  if (!std::filesystem::exists(db_path)) return out;
  ST_ASSIGN_OR_RETURN(audit::Db db, audit::OpenDb(db_path, false));
  ST_ASSIGN_OR_RETURN(audit::Stmt select, audit::Prepare(db.get(), "SELECT profile, lines FROM profile_lines"));
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW)
    out[audit::ColumnText(select.get(), 0)] = ParseLines(audit::ColumnText(select.get(), 1));
  if (rc != SQLITE_DONE) return audit::StorageError(db.get(), "reading profile lines");
  return out;
}

Status RestoreProfileLines(const std::string& db_path, const std::vector<issuance::CertificateProfile*>& profiles) {
  ST_ASSIGN_OR_RETURN(auto stored, ReadProfileLines(db_path));
  for (issuance::CertificateProfile* profile : profiles) {
    auto it = stored.find(profile->profile().name);
    if (it != stored.end()) profile->SetLines(it->second);
  }
  return {};
}

}  // namespace station::officer
