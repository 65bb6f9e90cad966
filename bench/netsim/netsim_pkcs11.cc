// libstation-netsim-pkcs11.so: a PKCS#11 module that stands in for a network
// HSM on the factory LAN. It forwards every call to a real module (SoftHSM)
// and adds what the network and the appliance add:
//
//   STATION_NETSIM_MODULE            the real module (required)
//   STATION_NETSIM_SIGN_LATENCY_US   how long each C_Sign and C_SignFinal takes in
//                                    all: the appliance's time per signature plus a
//                                    round trip (SoftHSM's own signing time counts
//                                    toward it, as an appliance computes within its
//                                    latency)
//   STATION_NETSIM_CALL_LATENCY_US   added to every other call that takes a
//                                    session (one round trip each)
//   STATION_NETSIM_MAX_SESSIONS      sessions open at once; beyond it C_OpenSession
//                                    answers CKR_SESSION_COUNT (as appliances do)
//
// Its capacity is MAX_SESSIONS / SIGN_LATENCY signatures per second (while
// SoftHSM signs faster than SIGN_LATENCY). The wait is a sleep outside any
// lock, so sessions overlap like remote calls.
// Read once, when the module is first asked for its function list. It also
// injects faults on command (faults.h) for the hardening tests, and keeps
// account of its time for the benchmark (timing.h).
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "faults.h"
#include "timing.h"

namespace {

using netsim::Fault;

struct Settings {
  std::chrono::microseconds sign_latency{0};
  std::chrono::microseconds call_latency{0};
  long max_sessions = 0;  // 0: no cap
};

Settings g_settings;
CK_FUNCTION_LIST* g_real = nullptr;  // the real module's list
CK_FUNCTION_LIST g_list;             // ours: the real one with the calls below replaced
std::atomic<long> g_open_sessions{0};
std::atomic<CK_SLOT_ID> g_slot{0};  // the slot the station uses (the last one it opened a session on)
std::once_flag g_once;
CK_RV g_load_rv = CKR_OK;

long EnvNumber(const char* name) {
  const char* text = std::getenv(name);
  return text != nullptr ? std::strtol(text, nullptr, 10) : 0;
}

void Wait(std::chrono::microseconds us) {
  if (us.count() > 0) std::this_thread::sleep_for(us);
}

// Applies the fault in force: carries out a one-shot one, and answers the
// error a call gets under a lasting one (CKR_OK: go on).
CK_RV Apply(netsim::Injection now) {
  const Fault fault = now.fault;
  if (fault == Fault::kRestart) {
    g_real->C_CloseAllSessions(g_slot.load());  // SoftHSM forgets the login with the last session
    g_open_sessions.store(0);
  } else if (fault == Fault::kLogout || (fault == Fault::kPinIncorrect && now.first)) {
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    if (g_real->C_OpenSession(g_slot.load(), CKF_SERIAL_SESSION, nullptr, nullptr, &s) == CKR_OK) {
      g_real->C_Logout(s);
      g_real->C_CloseSession(s);
    }
  }
  return netsim::ErrorFor(fault);
}

CK_RV Injected() { return Apply(netsim::CurrentFault()); }

// A hung appliance: the call does not come back while the fault lasts.
void HangWhileTold() {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (netsim::CurrentFault().fault == Fault::kHang && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Runs a signing call so that it takes the appliance's latency in all. Only a
// call that makes a signature pays it; a length query (no buffer) is a round trip.
template <typename Call>
CK_RV Signing(bool makes_signature, Call call) {
  if (!makes_signature) {
    Wait(g_settings.call_latency);
    return call();
  }
  const auto done_at = std::chrono::steady_clock::now() + g_settings.sign_latency;
  CK_RV rv = call();
  std::this_thread::sleep_until(done_at);
  return rv;
}

CK_RV Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len) {
  const netsim::Injection now = netsim::CurrentFault();
  if (CK_RV rv = Apply(now); rv != CKR_OK) return rv;
  if (now.fault == Fault::kHang) HangWhileTold();
  const auto start = netsim::TimingClock::now();
  CK_RV rv = Signing(sig != nullptr, [&] { return g_real->C_Sign(s, data, len, sig, sig_len); });
  if (rv == CKR_OK && sig != nullptr) {
    netsim::TimeSign(s, start, netsim::TimingClock::now());
    netsim::CountSign();
    if (now.fault == Fault::kCorruptSignature && *sig_len > 0) sig[*sig_len - 1] ^= 0x01;
  }
  return rv;
}

CK_RV SignFinal(CK_SESSION_HANDLE s, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len) {
  return Signing(sig != nullptr, [&] { return g_real->C_SignFinal(s, sig, sig_len); });
}

CK_RV SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key) {
  Wait(g_settings.call_latency);
  if (CK_RV rv = Injected(); rv != CKR_OK) return rv;
  const auto start = netsim::TimingClock::now();
  CK_RV rv = g_real->C_SignInit(s, m, key);
  netsim::TimeSignInit(s, start, netsim::TimingClock::now());
  return rv;
}

CK_RV FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n) {
  Wait(g_settings.call_latency);
  if (CK_RV rv = Injected(); rv != CKR_OK) return rv;
  return g_real->C_FindObjectsInit(s, t, n);
}

CK_RV FindObjects(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR o, CK_ULONG max, CK_ULONG_PTR n) {
  Wait(g_settings.call_latency);
  return g_real->C_FindObjects(s, o, max, n);
}

CK_RV GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n) {
  Wait(g_settings.call_latency);
  return g_real->C_GetAttributeValue(s, o, t, n);
}

CK_RV Login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len) {
  Wait(g_settings.call_latency);
  netsim::CountLogin();
  const netsim::Injection now = netsim::CurrentFault();
  if (now.fault == Fault::kPinIncorrect) return CKR_PIN_INCORRECT;
  if (CK_RV rv = Apply(now); rv != CKR_OK && now.fault != Fault::kUserNotLoggedIn) return rv;
  return g_real->C_Login(s, user, pin, len);
}

CK_RV OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify, CK_SESSION_HANDLE_PTR s) {
  Wait(g_settings.call_latency);
  g_slot.store(slot);
  if (CK_RV rv = Injected(); rv != CKR_OK && rv != CKR_USER_NOT_LOGGED_IN) return rv;
  const long open = g_open_sessions.fetch_add(1) + 1;
  if (g_settings.max_sessions > 0 && open > g_settings.max_sessions) {
    g_open_sessions.fetch_sub(1);
    return CKR_SESSION_COUNT;
  }
  CK_RV rv = g_real->C_OpenSession(slot, flags, app, notify, s);
  if (rv != CKR_OK) g_open_sessions.fetch_sub(1);
  return rv;
}

CK_RV CloseSession(CK_SESSION_HANDLE s) {
  CK_RV rv = g_real->C_CloseSession(s);
  if (rv == CKR_OK) g_open_sessions.fetch_sub(1);
  return rv;
}

CK_RV CloseAllSessions(CK_SLOT_ID slot) {
  CK_RV rv = g_real->C_CloseAllSessions(slot);
  if (rv == CKR_OK) g_open_sessions.store(0);  // one token per process, as the station uses it
  return rv;
}

CK_RV Finalize(CK_VOID_PTR reserved) {
  netsim::WriteTiming();
  return g_real->C_Finalize(reserved);
}

void Load() {
  const char* path = std::getenv("STATION_NETSIM_MODULE");
  if (path == nullptr || *path == '\0') {
    g_load_rv = CKR_GENERAL_ERROR;
    return;
  }
  void* handle = ::dlopen(path, RTLD_NOW | RTLD_LOCAL);
  auto get_list = handle ? reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList")) : nullptr;
  if (get_list == nullptr || get_list(&g_real) != CKR_OK || g_real == nullptr) {
    g_load_rv = CKR_GENERAL_ERROR;
    return;
  }
  g_settings.sign_latency = std::chrono::microseconds(EnvNumber("STATION_NETSIM_SIGN_LATENCY_US"));
  g_settings.call_latency = std::chrono::microseconds(EnvNumber("STATION_NETSIM_CALL_LATENCY_US"));
  g_settings.max_sessions = EnvNumber("STATION_NETSIM_MAX_SESSIONS");
  g_list = *g_real;
  g_list.C_GetFunctionList = C_GetFunctionList;
  g_list.C_Sign = Sign;
  g_list.C_SignFinal = SignFinal;
  g_list.C_SignInit = SignInit;
  g_list.C_Finalize = Finalize;
  g_list.C_FindObjectsInit = FindObjectsInit;
  g_list.C_FindObjects = FindObjects;
  g_list.C_GetAttributeValue = GetAttributeValue;
  g_list.C_Login = Login;
  g_list.C_OpenSession = OpenSession;
  g_list.C_CloseSession = CloseSession;
  g_list.C_CloseAllSessions = CloseAllSessions;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  if (list == nullptr) return CKR_ARGUMENTS_BAD;
  std::call_once(g_once, Load);
  if (g_load_rv != CKR_OK) return g_load_rv;
  *list = &g_list;
  return CKR_OK;
}
