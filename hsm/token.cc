#include "hsm/token.h"

#include <cstring>

namespace station::hsm {
namespace {

constexpr int kMaxAttempts = 3;  // one retry for a lost session, one for a lost login

bool SessionLost(CK_RV rv) {
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED || rv == CKR_DEVICE_REMOVED;
}

// After these the session's state is unknown (an operation may still be
// active in it): it is closed rather than reused, and a fresh one opened next time.
bool SessionSuspect(CK_RV rv) {
  return SessionLost(rv) || rv == CKR_DEVICE_ERROR || rv == CKR_DEVICE_MEMORY || rv == CKR_TOKEN_NOT_PRESENT ||
         rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED ||
         rv == CKR_OPERATION_ACTIVE || rv == CKR_FUNCTION_CANCELED;
}

// A PIN the token refused. Trying it again could lock the token.
bool PinRefused(CK_RV rv) {
  return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_EXPIRED ||
         rv == CKR_PIN_LOCKED;
}

bool Matches(const std::string& want, const unsigned char* field, size_t len) {
  return want.empty() || want == TrimPadded(field, len);
}

}  // namespace

std::string TrimPadded(const unsigned char* field, size_t len) {
  std::string s(reinterpret_cast<const char*>(field), len);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// The slots that have a token present.
Result<std::vector<CK_SLOT_ID>> SlotsWithToken(CK_FUNCTION_LIST* fn) {
  CK_ULONG count = 0;
  CK_RV rv = fn->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return CkError(rv, "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(count);
  rv = fn->C_GetSlotList(CK_TRUE, slots.data(), &count);
  if (rv != CKR_OK) return CkError(rv, "C_GetSlotList");
  slots.resize(count);
  return slots;
}

Result<std::vector<CK_SLOT_ID>> FindTokenSlots(CK_FUNCTION_LIST* fn, const Pkcs11Uri& uri) {
  ST_ASSIGN_OR_RETURN(auto slots, SlotsWithToken(fn));
  std::vector<CK_SLOT_ID> matching;
  for (CK_SLOT_ID slot : slots) {
    if (uri.slot_id && *uri.slot_id != slot) continue;
    CK_TOKEN_INFO info{};
    if (fn->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    if (!(info.flags & CKF_TOKEN_INITIALIZED)) continue;
    if (Matches(uri.token, info.label, sizeof info.label) &&
        Matches(uri.serial, info.serialNumber, sizeof info.serialNumber) &&
        Matches(uri.manufacturer, info.manufacturerID, sizeof info.manufacturerID) &&
        Matches(uri.model, info.model, sizeof info.model))
      matching.push_back(slot);
  }
  return matching;
}

Result<std::shared_ptr<Token>> Token::Open(std::shared_ptr<Module> module, const Pkcs11Uri& uri, Secret pin,
                                           const TokenOptions& options) {
  return Open(std::move(module), uri, KeptPin(std::move(pin)), options);
}

Result<std::shared_ptr<Token>> Token::Open(std::shared_ptr<Module> module, const Pkcs11Uri& uri,
                                           PinReader read_pin, const TokenOptions& options) {
  ST_ASSIGN_OR_RETURN(auto slots, FindTokenSlots(module->fn(), uri));
  if (slots.empty())
    return MakeError(Code::kFailedPrecondition, "TOKEN_NOT_FOUND",
                     "no initialized token matches " + uri.ToString() + " in module " + module->path());
  if (slots.size() > 1)
    return MakeError(Code::kFailedPrecondition, "TOKEN_AMBIGUOUS",
                     std::to_string(slots.size()) + " tokens match " + uri.ToString() +
                         "; add serial= or slot-id= to the URI");
  CK_TOKEN_INFO info{};
  CK_RV rv = module->fn()->C_GetTokenInfo(slots[0], &info);
  if (rv != CKR_OK) return CkError(rv, "C_GetTokenInfo");
  std::shared_ptr<Token> token(new Token(module, slots[0], TrimPadded(info.label, sizeof info.label),
                                         TrimPadded(info.serialNumber, sizeof info.serialNumber),
                                         std::move(read_pin), options));
  ST_RETURN_IF_ERROR(token->Login());
  return token;
}

Status Token::Login() {
  std::lock_guard<std::mutex> lock(login_mu_);
  if (login_refused_) return *login_refused_;
  ST_ASSIGN_OR_RETURN(auto lease, pool_.Acquire(options_.session_wait));
  ST_ASSIGN_OR_RETURN(Secret secret, read_pin_());  // wiped when this returns
  const std::string& pin = secret.reveal();
  CK_RV rv = fn()->C_Login(lease.handle(), CKU_USER,
                           reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data())), pin.size());
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) return {};
  if (SessionSuspect(rv)) lease.MarkBroken();
  Error error = CkError(rv, "C_Login to token '" + label_ + "'");
  if (PinRefused(rv)) {
    error.message += "; the station will not try this PIN again (a token locks after a few wrong ones): "
                     "correct the PIN and restart the station";
    login_refused_ = error;
  }
  return error;
}

Status Token::Run(const std::string& doing, const SessionOp& op) {
  CK_RV rv = CKR_OK;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    bool logged_out = false;
    {
      ST_ASSIGN_OR_RETURN(auto lease, pool_.Acquire(options_.session_wait));
      rv = op(lease.handle());
      if (rv == CKR_OK) return {};
      if (SessionSuspect(rv)) {
        lease.MarkBroken();
        if (SessionLost(rv)) continue;  // on a fresh session at once
        break;
      }
      // Tokens differ in how they report a lost login: CKR_USER_NOT_LOGGED_IN,
      // or (SoftHSM) CKR_KEY_HANDLE_INVALID because private objects vanish
      // from view. The session state says which it is.
      CK_SESSION_INFO info{};
      logged_out = rv == CKR_USER_NOT_LOGGED_IN ||
                   (fn()->C_GetSessionInfo(lease.handle(), &info) == CKR_OK &&
                    (info.state == CKS_RO_PUBLIC_SESSION || info.state == CKS_RW_PUBLIC_SESSION));
    }
    if (!logged_out) break;
    if (Status login = Login(); !login.ok()) {
      // The items wait for the token like for any other outage.
      Error error = login.error();
      error.code = Code::kUnavailable;
      return error;
    }
  }
  return CkError(rv, doing + " on token '" + label_ + "'");
}

Status Token::Probe() {
  return Run("checking the token", [this](CK_SESSION_HANDLE session) {
    CK_OBJECT_CLASS key_class = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE private_keys{CKA_CLASS, &key_class, sizeof key_class};
    CK_RV rv = fn()->C_FindObjectsInit(session, &private_keys, 1);
    return rv == CKR_OK ? fn()->C_FindObjectsFinal(session) : rv;
  });
}

Status InitializeToken(Module& module, const std::string& label, const Secret& so_pin,
                       const Secret& user_pin) {
  CK_FUNCTION_LIST* fn = module.fn();
  ST_ASSIGN_OR_RETURN(auto slots, SlotsWithToken(fn));
  std::optional<CK_SLOT_ID> free_slot;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (fn->C_GetTokenInfo(slot, &info) == CKR_OK && !(info.flags & CKF_TOKEN_INITIALIZED)) {
      free_slot = slot;
      break;
    }
  }
  if (!free_slot)
    return MakeError(Code::kFailedPrecondition, "TOKEN_NOT_FOUND",
                     "module " + module.path() + " has no slot with an uninitialized token");
  if (label.size() > 32)
    return MakeError(Code::kInvalidArgument, "BAD_TOKEN_LABEL", "a token label has at most 32 bytes");
  unsigned char padded[32];
  std::memset(padded, ' ', sizeof padded);
  std::memcpy(padded, label.data(), label.size());
  auto utf8 = [](const Secret& s) { return reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(s.reveal().data())); };
  CK_RV rv = fn->C_InitToken(*free_slot, utf8(so_pin), so_pin.reveal().size(), padded);
  if (rv != CKR_OK) return CkError(rv, "C_InitToken");

  // SoftHSM moves a freshly initialized token to a new slot id: look it up again.
  Pkcs11Uri by_label;
  by_label.token = label;
  ST_ASSIGN_OR_RETURN(auto found, FindTokenSlots(fn, by_label));
  if (found.size() != 1)
    return MakeError(Code::kFailedPrecondition, "TOKEN_NOT_FOUND", "token '" + label + "' not found after C_InitToken");
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  rv = fn->C_OpenSession(found[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session);
  if (rv != CKR_OK) return CkError(rv, "C_OpenSession");
  rv = fn->C_Login(session, CKU_SO, utf8(so_pin), so_pin.reveal().size());
  if (rv == CKR_OK) {
    rv = fn->C_InitPIN(session, utf8(user_pin), user_pin.reveal().size());
    fn->C_Logout(session);
  }
  fn->C_CloseSession(session);
  if (rv != CKR_OK) return CkError(rv, "setting the user PIN of token '" + label + "'");
  return {};
}

}  // namespace station::hsm
