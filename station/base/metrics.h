// Counters and histograms the station keeps for Prometheus, and the text
// format (version 0.0.4) they are scraped in. Recording is a few atomic adds;
// reading copies them, so a scrape never waits on issuance or holds it up.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace station::metrics {

// A count by one label's value (a profile, a refusal reason). Values seen
// once stay; recording takes a short, uncontended lock.
class CounterVec {
 public:
  void Add(const std::string& value, uint64_t n = 1);
  std::map<std::string, uint64_t> Read() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<std::atomic<uint64_t>>> counts_;
};

// Durations in seconds, in the buckets below (1 ms to 30 s).
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1,    5,     30};
  void Observe(std::chrono::steady_clock::duration d);
  struct Snapshot {
    std::array<uint64_t, kBounds.size()> cumulative{};  // observations <= each bound
    uint64_t count = 0;
    double sum_seconds = 0;
  };
  Snapshot Read() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // the last: above every bound
  std::atomic<uint64_t> sum_ns_{0};
};

// Writes one scrape: each family's HELP and TYPE once, then its samples.
class Text {
 public:
  // A family without labels.
  void Gauge(const std::string& name, const std::string& help, double value);
  void Counter(const std::string& name, const std::string& help, uint64_t value);
  // A family with one label, one sample per value.
  void Gauges(const std::string& name, const std::string& help, const std::string& label,
              const std::map<std::string, double>& values);
  void Counters(const std::string& name, const std::string& help, const std::string& label,
                const std::map<std::string, uint64_t>& values);
  void Histogram(const std::string& name, const std::string& help, const Histogram::Snapshot& h);
  const std::string& str() const { return out_; }

 private:
  void Head(const std::string& name, const std::string& help, const char* type);
  std::string out_;
};

}  // namespace station::metrics
