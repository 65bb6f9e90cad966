// Export formats read by people and spreadsheets: device data is not trusted.
#include "station/export/formats.h"

#include <gtest/gtest.h>

#include "station/base/text.h"

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

// JSON is UTF-8 (RFC 8259 8.1): text that is passes through, a byte that is
// not part of a well-formed sequence becomes \u00XX, and reads back the same.
TEST(FormatsTest, JsonStaysValidWhateverTheBytes) {
  EXPECT_EQ(JsonEscape("caf\xc3\xa9 \xf0\x9f\x94\x91"), "caf\xc3\xa9 \xf0\x9f\x94\x91");
  EXPECT_EQ(JsonEscape("a\xff"), "a\\u00ff");
  EXPECT_EQ(JsonEscape("\xc3"), "\\u00c3") << "a sequence cut short";
  EXPECT_EQ(JsonEscape("\xc0\xaf"), "\\u00c0\\u00af") << "an overlong '/'";
  EXPECT_EQ(JsonEscape("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080") << "a surrogate";
  EXPECT_EQ(JsonEscape("\xf4\x90\x80\x80"), "\\u00f4\\u0090\\u0080\\u0080") << "past U+10FFFF";
  const std::map<std::string, std::string> fields = {{"k\xff", "v\"\n\x01\xc3\xa9"}, {"b", ""}};
  EXPECT_EQ(JsonObjectFields(JsonObject(fields)), fields);
  EXPECT_EQ(JsonObjectFields("{\"a\":\"b\"}x"), std::nullopt);
  EXPECT_EQ(JsonObjectFields("{\"a\":1}"), std::nullopt);

  audit::AuditRecord r;
  r.serial_hex = "0a";
  r.subject = "CN=\xff\xfe";
  r.thing_attributes = JsonObject({{"model", "x\x80"}});
  const std::string line = AllowlistLine(r, CertFacts{"CN=ca", "2036-01-01T00:00:00Z", ""});
  EXPECT_NE(line.find("\"subject\":{\"S\":\"CN=\\u00ff\\u00fe\"}"), std::string::npos) << line;
  EXPECT_NE(line.find("\"attributes\":{\"M\":{\"model\":{\"S\":\"x\\u0080\"}}}"), std::string::npos) << line;
  EXPECT_NE(line.find("\"jitr\":{\"BOOL\":true}"), std::string::npos) << line;
}

}  // namespace
}  // namespace station::exports
