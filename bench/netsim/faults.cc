#include "faults.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

namespace netsim {
namespace {

struct Control {
  std::mutex mu;  // guards all below
  struct timespec mtime {};
  off_t size = -1;
  std::string text;
  Fault fault = Fault::kNone;
  bool unseen = false;  // no call has seen the fault yet
};

Control& control() {
  static Control c;
  return c;
}

std::atomic<long> g_logins{0}, g_signs{0};

const char* Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

Fault Parse(const std::string& text) {
  std::string word = text.substr(0, text.find_first_of(" \t\r\n"));
  if (word == "device_error") return Fault::kDeviceError;
  if (word == "token_not_present") return Fault::kTokenNotPresent;
  if (word == "session_invalid") return Fault::kSessionInvalid;
  if (word == "user_not_logged_in") return Fault::kUserNotLoggedIn;
  if (word == "hang") return Fault::kHang;
  if (word == "corrupt_signature") return Fault::kCorruptSignature;
  if (word == "pin_incorrect") return Fault::kPinIncorrect;
  if (word == "restart") return Fault::kRestart;
  if (word == "logout") return Fault::kLogout;
  return Fault::kNone;
}

void WriteCounts() {
  const char* path = Env("STATION_NETSIM_COUNT_FILE");
  if (path == nullptr) return;
  std::string tmp = std::string(path) + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "logins=%ld signs=%ld\n", g_logins.load(), g_signs.load());
    std::fclose(f);
    std::rename(tmp.c_str(), path);
  }
}

}  // namespace

Injection CurrentFault() {
  const char* path = Env("STATION_NETSIM_FAULT_FILE");
  if (path == nullptr) return {};
  Control& c = control();
  std::lock_guard<std::mutex> lock(c.mu);
  struct stat st {};
  bool exists = ::stat(path, &st) == 0;
  off_t size = exists ? st.st_size : -1;
  if (size != c.size || st.st_mtim.tv_sec != c.mtime.tv_sec || st.st_mtim.tv_nsec != c.mtime.tv_nsec) {
    std::string text;
    if (exists) {
      std::ifstream in(path);
      std::getline(in, text);
    }
    c.size = size;
    c.mtime = st.st_mtim;
    if (text != c.text) {
      c.text = text;
      c.fault = Parse(text);
      c.unseen = true;
    }
  }
  Injection now{c.fault, c.unseen};
  c.unseen = false;
  if ((now.fault == Fault::kRestart || now.fault == Fault::kLogout) && !now.first) return {};
  return now;
}

CK_RV ErrorFor(Fault fault) {
  switch (fault) {
    case Fault::kDeviceError: return CKR_DEVICE_ERROR;
    case Fault::kTokenNotPresent: return CKR_TOKEN_NOT_PRESENT;
    case Fault::kSessionInvalid: return CKR_SESSION_HANDLE_INVALID;
    case Fault::kUserNotLoggedIn: return CKR_USER_NOT_LOGGED_IN;
    default: return CKR_OK;
  }
}

void CountLogin() {
  ++g_logins;
  WriteCounts();
}

void CountSign() {
  ++g_signs;
  WriteCounts();
}

}  // namespace netsim
