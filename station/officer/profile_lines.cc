#include "station/officer/profile_lines.h"

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

Status WriteProfileLines(store::Changes& changes, const std::string& profile, const policy::LineSet& lines,
                         uint64_t seq) {
  return changes.SetProfileLines(profile, LinesText(lines), seq);
}

Result<std::map<std::string, policy::LineSet>> ReadProfileLines(store::Store& store) {
  ST_ASSIGN_OR_RETURN(auto stored, store.ProfileLines());
  std::map<std::string, policy::LineSet> out;
  for (const auto& [profile, text] : stored) out[profile] = ParseLines(text);
  return out;
}

Status RestoreProfileLines(store::Store& store, const std::vector<issuance::CertificateProfile*>& profiles) {
  ST_ASSIGN_OR_RETURN(auto stored, ReadProfileLines(store));
  for (issuance::CertificateProfile* profile : profiles) {
    auto it = stored.find(profile->profile().name);
    if (it != stored.end()) profile->SetLines(it->second);
  }
  return {};
}

}  // namespace station::officer
