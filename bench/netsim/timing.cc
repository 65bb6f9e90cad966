#include "timing.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace netsim {
namespace {

constexpr auto kPause = std::chrono::milliseconds(100);

struct Totals {
  std::mutex mu;  // guards all below: a few hundred ns against a call of milliseconds
  std::unordered_map<CK_SESSION_HANDLE, TimingClock::time_point> last_sign_end;
  unsigned long long signatures = 0, inits = 0, gaps = 0, pauses = 0;
  TimingClock::duration sign{}, init{}, gap{};
};

Totals& Get() {
  static Totals* totals = new Totals;  // never destroyed: C_Finalize may run during exit
  return *totals;
}

double MeanUs(TimingClock::duration total, unsigned long long n) {
  return n ? std::chrono::duration<double, std::micro>(total).count() / static_cast<double>(n) : 0;
}

}  // namespace

void TimeSignInit(CK_SESSION_HANDLE session, TimingClock::time_point start, TimingClock::time_point end) {
  Totals& t = Get();
  std::lock_guard<std::mutex> lock(t.mu);
  ++t.inits;
  t.init += end - start;
  auto last = t.last_sign_end.find(session);
  if (last == t.last_sign_end.end()) return;
  const auto gap = start - last->second;
  if (gap > kPause) {
    ++t.pauses;
  } else {
    ++t.gaps;
    t.gap += gap;
  }
}

void TimeSign(CK_SESSION_HANDLE session, TimingClock::time_point start, TimingClock::time_point end) {
  Totals& t = Get();
  std::lock_guard<std::mutex> lock(t.mu);
  ++t.signatures;
  t.sign += end - start;
  t.last_sign_end[session] = end;
}

void WriteTiming() {
  const char* path = std::getenv("STATION_NETSIM_TIMING_FILE");
  if (path == nullptr || *path == '\0') return;
  Totals& t = Get();
  std::lock_guard<std::mutex> lock(t.mu);
  FILE* f = std::fopen(path, "w");
  if (f == nullptr) return;
  std::fprintf(f,
               "{\"signatures\":%llu,\"sign_call_us\":%.1f,\"sign_init_us\":%.1f,\"session_gap_us\":%.1f,"
               "\"gaps\":%llu,\"pauses\":%llu}\n",
               t.signatures, MeanUs(t.sign, t.signatures), MeanUs(t.init, t.inits), MeanUs(t.gap, t.gaps), t.gaps,
               t.pauses);
  std::fclose(f);
}

}  // namespace netsim
