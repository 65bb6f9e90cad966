// Faults the simulated HSM injects on command, for the hardening tests.
//
//   STATION_NETSIM_FAULT_FILE   a file whose first word names the fault in
//                               force; re-read whenever it changes, so a test
//                               switches faults while the station runs:
//     (empty) | none       no fault
//     device_error         signing, session and search calls answer CKR_DEVICE_ERROR
//     token_not_present    ... CKR_TOKEN_NOT_PRESENT
//     session_invalid      ... CKR_SESSION_HANDLE_INVALID
//     user_not_logged_in   ... CKR_USER_NOT_LOGGED_IN
//     hang                 C_Sign blocks until the file says otherwise (10 minutes at most)
//     corrupt_signature    C_Sign succeeds with one bit of the signature flipped
//     pin_incorrect        the login is lost once (as after an appliance restart)
//                          and C_Login answers CKR_PIN_INCORRECT from then on
//     restart              once: every session closes and the login is lost,
//                          as when the appliance restarts (write it again,
//                          e.g. "restart 2", to restart again)
//     logout               once: the login is lost, sessions stay
//   STATION_NETSIM_COUNT_FILE   rewritten after every C_Login and C_Sign:
//                               "logins=N signs=M"
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>

namespace netsim {

enum class Fault { kNone, kDeviceError, kTokenNotPresent, kSessionInvalid, kUserNotLoggedIn, kHang,
                   kCorruptSignature, kPinIncorrect, kRestart, kLogout };

struct Injection {
  Fault fault = Fault::kNone;
  bool first = false;  // the first call to see it since the file changed
};

// The fault now in force. A one-shot fault (restart, logout) is reported to
// one call per change of the file, then kNone.
Injection CurrentFault();

// The error a call answers under `fault`, or CKR_OK when it goes through.
CK_RV ErrorFor(Fault fault);

// Counts a call and rewrites the count file.
void CountLogin();
void CountSign();

}  // namespace netsim
