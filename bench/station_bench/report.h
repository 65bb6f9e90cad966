// The benchmark's results: one JSON object per measurement on stdout as it is
// made (for scripts), and a table for people at the end (on stderr).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace station::bench {

class Report {
 public:
  // A measurement: its kind ("raw", "e2e", ...), then its fields in order.
  // Values are JSON already (numbers, or strings made with Str()).
  void Add(const std::string& measure, std::vector<std::pair<std::string, std::string>> fields);
  static std::string Str(const std::string& s);
  static std::string Num(double v, int decimals = 1);

  // The table: one row per measurement.
  std::string Table() const;

 private:
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> rows_;
};

}  // namespace station::bench
