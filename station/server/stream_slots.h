// Open SignStreams and unary Sign calls in work, counted station-wide and
// per line: one misbehaving line cannot take every stream the station serves.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "station/base/error.h"

namespace station::server {

class StreamSlots {
 public:
  StreamSlots(size_t max_total, size_t max_per_line) : max_total_(max_total), max_per_line_(max_per_line) {}

  // Held for as long as the stream lives.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : slots_(other.slots_), line_(std::move(other.line_)) { other.slots_ = nullptr; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (slots_) slots_->Release(line_);
    }

   private:
    friend class StreamSlots;
    Slot(StreamSlots* slots, std::string line) : slots_(slots), line_(std::move(line)) {}
    StreamSlots* slots_;
    std::string line_;
  };

  // A slot for a stream of `line`, or RESOURCE_EXHAUSTED TOO_MANY_STREAMS
  // (the station is full) / TOO_MANY_STREAMS_FOR_LINE (this line is).
  Result<Slot> Acquire(const std::string& line);
  // The lines with a stream open now, and how many each.
  std::map<std::string, size_t> PerLine() const;

 private:
  void Release(const std::string& line);

  const size_t max_total_, max_per_line_;
  mutable std::mutex mu_;  // guards the counts
  size_t total_ = 0;
  std::map<std::string, size_t> per_line_;  // lines with at least one open stream
};

}  // namespace station::server
