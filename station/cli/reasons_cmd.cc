// stationctl reasons [REASON...] [--format text|json|markdown]: what each
// reason the station returns means and what to do, from base/reasons.h. The
// README's error table is this command's markdown.
#include <cstdio>
#include <string>
#include <vector>

#include "station/base/reasons.h"
#include "station/base/text.h"
#include "station/cli/commands.h"

namespace station::cli {
namespace {

std::string CodeColumn(const base::ReasonRow& row) {
  std::string code = CodeName(row.code);
  return row.where.empty() ? code : code + " (" + std::string(row.where) + ")";
}

std::string Markdown(const std::vector<const base::ReasonRow*>& rows) {
  std::string out = "| code | reason | meaning, and what to do |\n| --- | --- | --- |\n";
  for (const base::ReasonRow* row : rows) {
    std::string names;
    for (std::string_view name : base::ReasonNames(*row))
      names += (names.empty() ? "`" : ", `") + std::string(name) + "`";
    out += "| " + CodeColumn(*row) + " | " + names + " | " + std::string(row->meaning) + " |\n";
  }
  return out;
}

// Each reason of `rows` (all of a row's names, or those asked for) on its own.
std::vector<std::pair<std::string, const base::ReasonRow*>> Each(const std::vector<const base::ReasonRow*>& rows,
                                                                 const std::vector<std::string>& asked) {
  std::vector<std::pair<std::string, const base::ReasonRow*>> out;
  if (!asked.empty()) {
    for (size_t i = 0; i < asked.size(); ++i) out.emplace_back(asked[i], rows[i]);
    return out;
  }
  for (const base::ReasonRow* row : rows)
    for (std::string_view name : base::ReasonNames(*row)) out.emplace_back(std::string(name), row);
  return out;
}

}  // namespace

int ReasonsCommand(int argc, char** argv) {
  auto args = base::Args::Parse(argc, argv, 2, {"format"});
  if (!args.ok()) return Fail(args.error());
  const std::string format = args->Get("format", "text");
  if (format != "text" && format != "json" && format != "markdown")
    return Fail(base::UsageError("--format is text, json or markdown, not '" + format + "'"));

  std::vector<const base::ReasonRow*> rows;
  for (const std::string& reason : args->positional()) {
    const base::ReasonRow* row = base::FindReason(reason);
    if (!row)
      return Fail(MakeError(Code::kNotFound, "REASON_UNKNOWN",
                            "no reason '" + reason + "': `stationctl reasons` lists every one"));
    rows.push_back(row);
  }
  if (args->positional().empty())
    for (const base::ReasonRow& row : base::ReasonTable()) rows.push_back(&row);

  if (format == "markdown") {
    std::fputs(Markdown(rows).c_str(), stdout);
    return 0;
  }
  const auto each = Each(rows, args->positional());
  if (format == "json") {
    std::vector<std::string> items;
    for (const auto& [name, row] : each)
      items.push_back(JsonFields()
                          .Str("reason", name)
                          .Str("code", CodeName(row->code))
                          .Num("code_number", static_cast<int>(row->code))
                          .Str("where", std::string(row->where))
                          .Str("meaning", std::string(row->meaning))
                          .str());
    std::printf("%s\n", JsonArray(items).c_str());
    return 0;
  }
  for (const auto& [name, row] : each)
    std::printf("%s  %s\n    %s\n", name.c_str(), CodeColumn(*row).c_str(), std::string(row->meaning).c_str());
  return 0;
}

}  // namespace station::cli
