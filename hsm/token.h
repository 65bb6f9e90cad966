// One token (one slot of a module), logged in once for the whole process.
//
// Login state belongs to the application, not to a session: we log in once,
// never log out while sessions sign, and log in again only when the token says
// CKR_USER_NOT_LOGGED_IN (an HSM restart, a network HSM reconnect). A PIN the
// token refuses once is never offered again: a token locks after a few.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hsm/module.h"
#include "hsm/pin.h"
#include "hsm/session_pool.h"
#include "hsm/uri.h"

namespace station::hsm {

struct TokenOptions {
  size_t max_sessions = 8;  // sized to the signing workers by the caller
  std::chrono::milliseconds session_wait{5000};
};

class Token {
 public:
  // Finds the one token matching the URI's token attributes (token, serial,
  // manufacturer, model, slot-id) and logs in as the user with the PIN.
  // `read_pin` gives the PIN for each login; each copy is wiped after C_Login.
  static Result<std::shared_ptr<Token>> Open(std::shared_ptr<Module> module, const Pkcs11Uri& uri,
                                             PinReader read_pin, const TokenOptions& options = {});
  // The same with a PIN kept for the token's lifetime (short-lived tools, tests).
  static Result<std::shared_ptr<Token>> Open(std::shared_ptr<Module> module, const Pkcs11Uri& uri,
                                             Secret pin, const TokenOptions& options = {});

  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  // Runs `op` on a leased session. When the token reports a lost session it
  // retries on a fresh one; when it reports a lost login it logs in again and
  // retries. `doing` names the operation for the error message.
  using SessionOp = std::function<CK_RV(CK_SESSION_HANDLE)>;
  Status Run(const std::string& doing, const SessionOp& op);

  // Asks the token for nothing it keeps (a search begun and ended), through
  // the session pool as a signature would: OK while the token answers and
  // the login holds. The station's health check, once a second; it signs
  // nothing.
  Status Probe();

  CK_FUNCTION_LIST* fn() const noexcept { return module_->fn(); }
  CK_SLOT_ID slot() const noexcept { return slot_; }
  const std::string& label() const noexcept { return label_; }
  const std::string& serial() const noexcept { return serial_; }
  size_t open_sessions() const { return pool_.open_sessions(); }

 private:
  Token(std::shared_ptr<Module> module, CK_SLOT_ID slot, std::string label, std::string serial,
        PinReader read_pin, const TokenOptions& options)
      : module_(std::move(module)), slot_(slot), label_(std::move(label)), serial_(std::move(serial)),
        options_(options), pool_(module_->fn(), slot_, options.max_sessions), read_pin_(std::move(read_pin)) {}

  Status Login();

  std::shared_ptr<Module> module_;
  const CK_SLOT_ID slot_;
  const std::string label_;
  const std::string serial_;
  const TokenOptions options_;
  SessionPool pool_;

  std::mutex login_mu_;                 // serializes C_Login; guards login_refused_
  std::optional<Error> login_refused_;  // the token refused the PIN: never C_Login again
  const PinReader read_pin_;  // for the first login and each re-login after the token forgot us
};

// A token's fixed-width CK_TOKEN_INFO text field without its padding.
std::string TrimPadded(const unsigned char* field, size_t len);

// The slots whose tokens match the URI's token attributes.
Result<std::vector<CK_SLOT_ID>> FindTokenSlots(CK_FUNCTION_LIST* fn, const Pkcs11Uri& uri);

// Initializes a fresh token in the first slot that has no initialized token
// (SoftHSM always offers one), labels it, and sets its user PIN. Used by
// `stationctl dev-setup` and the tests; a real HSM is initialized by its vendor tools.
Status InitializeToken(Module& module, const std::string& label, const Secret& so_pin,
                       const Secret& user_pin);

}  // namespace station::hsm
