#include "station/base/metrics.h"

#include <cstdio>

namespace station::metrics {
namespace {

// A sample value as Prometheus reads it: integers exactly, others with
// 15 significant digits (a timestamp keeps its milliseconds).
std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

// A label value in the text format: \ " and newline escaped.
std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

void CounterVec::Add(const std::string& value, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = counts_[value];
  if (!slot) slot = std::make_unique<std::atomic<uint64_t>>(0);
  slot->fetch_add(n, std::memory_order_relaxed);
}

std::map<std::string, uint64_t> CounterVec::Read() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [value, count] : counts_) out[value] = count->load(std::memory_order_relaxed);
  return out;
}

void Histogram::Observe(std::chrono::steady_clock::duration d) {
  const double seconds = std::chrono::duration<double>(d).count();
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()),
                    std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running + buckets_[kBounds.size()].load(std::memory_order_relaxed);
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

void Text::Head(const std::string& name, const std::string& help, const char* type) {
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void Text::Gauge(const std::string& name, const std::string& help, double value) {
  Head(name, help, "gauge");
  out_ += name + " " + Number(value) + "\n";
}

void Text::Counter(const std::string& name, const std::string& help, uint64_t value) {
  Head(name, help, "counter");
  out_ += name + " " + std::to_string(value) + "\n";
}

void Text::Gauges(const std::string& name, const std::string& help, const std::string& label,
                  const std::map<std::string, double>& values) {
  Head(name, help, "gauge");
  for (const auto& [value, v] : values)
    out_ += name + "{" + label + "=\"" + LabelValue(value) + "\"} " + Number(v) + "\n";
}

void Text::Counters(const std::string& name, const std::string& help, const std::string& label,
                    const std::map<std::string, uint64_t>& values) {
  Head(name, help, "counter");
  for (const auto& [value, n] : values)
    out_ += name + "{" + label + "=\"" + LabelValue(value) + "\"} " + std::to_string(n) + "\n";
}

void Text::Histogram(const std::string& name, const std::string& help, const Histogram::Snapshot& h) {
  Head(name, help, "histogram");
  for (size_t i = 0; i < Histogram::kBounds.size(); ++i)
    out_ += name + "_bucket{le=\"" + Number(Histogram::kBounds[i]) + "\"} " + std::to_string(h.cumulative[i]) + "\n";
  out_ += name + "_bucket{le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  out_ += name + "_sum " + Number(h.sum_seconds) + "\n" + name + "_count " + std::to_string(h.count) + "\n";
}

}  // namespace station::metrics
