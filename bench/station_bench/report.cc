#include "bench/station_bench/report.h"

#include <cstdio>

namespace station::bench {

void Report::Add(const std::string& measure, std::vector<std::pair<std::string, std::string>> fields) {
  std::string json = "{\"measure\":" + Str(measure);
  for (const auto& [name, value] : fields) json += ",\"" + name + "\":" + value;
  std::printf("%s}\n", json.c_str());
  std::fflush(stdout);
  rows_.emplace_back(measure, std::move(fields));
}

std::string Report::Str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

std::string Report::Num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Report::Table() const {
  std::string out;
  for (const auto& [measure, fields] : rows_) {
    char head[32];
    std::snprintf(head, sizeof head, "%-12s", measure.c_str());
    out += head;
    for (const auto& [name, value] : fields) {
      std::string v = value;
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      out += " " + name + "=" + v;
    }
    out += "\n";
  }
  return out;
}

}  // namespace station::bench
