// Export formats read by people and spreadsheets: device data is not trusted.
#include "station/export/formats.h"

#include <gtest/gtest.h>

namespace station::exports {
namespace {

// The cell of `line` after `prefix` up to the next top-level comma.
std::string CellAfter(const std::string& line, const std::string& prefix) {
  size_t at = line.find(prefix);
  return at == std::string::npos ? "" : line.substr(at + prefix.size());
}

TEST(FormatsTest, CsvQuotesFormulasAndSemicolons) {
  audit::AuditRecord r;
  r.seq = 7;
  r.request_id = "r-1";
  r.caller = "line-1";
  r.device_id = "=HYPERLINK(\"http://x\")";
  r.thing_name = "a;b";
  r.thing_type = "-2+3";
  r.subject = "@SUM(A1)";
  const std::string line = CsvLine(r);
  EXPECT_NE(line.find(",\"'=HYPERLINK(\"\"http://x\"\")\","), std::string::npos) << line;
  EXPECT_NE(line.find(",\"a;b\","), std::string::npos) << line;
  EXPECT_NE(line.find(",\"'-2+3\","), std::string::npos) << line;
  EXPECT_NE(line.find(",\"'@SUM(A1)\","), std::string::npos) << line;
  EXPECT_EQ(CellAfter(line, "7,").rfind("0,r-1,line-1,", 0), 0u) << "plain cells stay plain: " << line;
}

}  // namespace
}  // namespace station::exports
