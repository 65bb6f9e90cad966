// Where a simulated HSM's time goes, for the benchmark's evidence: per
// signature, how long the call took against the latency it should take, and
// how long its session sat idle at the station before the next C_SignInit.
//
//   STATION_NETSIM_TIMING_FILE   written at C_Finalize, one JSON object:
//     {"signatures":N,"sign_call_us":..,"sign_init_us":..,"session_gap_us":..,"gaps":N,"pauses":N}
//   sign_call_us    mean C_Sign duration (the latency plus any oversleep)
//   sign_init_us    mean C_SignInit duration (outside the latency)
//   session_gap_us  mean time from a session's C_Sign return to its next
//                   C_SignInit: the station's hand-off. Gaps over 100 ms are
//                   counted as pauses (no load), not in the mean.
// Capacity a session delivers = latency / (gap + init + call).
#pragma once

#include <p11-kit/pkcs11.h>

#include <chrono>

namespace netsim {

using TimingClock = std::chrono::steady_clock;

void TimeSignInit(CK_SESSION_HANDLE session, TimingClock::time_point start, TimingClock::time_point end);
void TimeSign(CK_SESSION_HANDLE session, TimingClock::time_point start, TimingClock::time_point end);

// Writes the file named by STATION_NETSIM_TIMING_FILE, if set.
void WriteTiming();

}  // namespace netsim
