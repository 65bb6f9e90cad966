#include "station/server/stream_slots.h"

namespace station::server {

Result<StreamSlots::Slot> StreamSlots::Acquire(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (total_ >= max_total_)
    return MakeError(Code::kResourceExhausted, "TOO_MANY_STREAMS",
                     "the station serves at most " + std::to_string(max_total_) + " streams at once; retry later");
  size_t& mine = per_line_[line];
  if (mine >= max_per_line_)
    return MakeError(Code::kResourceExhausted, "TOO_MANY_STREAMS_FOR_LINE",
                     "line '" + line + "' already has " + std::to_string(mine) +
                         " streams open, the most one line may ([limits] max_streams_per_line); send more requests "
                         "on each stream, or close streams it no longer uses");
  ++mine;
  ++total_;
  return Slot(this, line);
}

void StreamSlots::Release(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  --total_;
  if (auto it = per_line_.find(line); it != per_line_.end() && --it->second == 0) per_line_.erase(it);
}

std::map<std::string, size_t> StreamSlots::PerLine() const {
  std::lock_guard<std::mutex> lock(mu_);
  return per_line_;
}

}  // namespace station::server
