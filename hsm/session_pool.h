// PKCS#11 sessions shared by the signing workers.
//
// A PKCS#11 session runs one operation at a time (C_SignInit..C_Sign must not
// interleave), so each worker leases a session, uses it alone, and gives it
// back. Sessions are opened lazily up to a maximum sized to the workers, and a
// session the token reports lost is closed instead of returned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "hsm/pkcs11.h"
#include "station/base/error.h"

namespace station::hsm {

class SessionPool;

// A leased session. Returns itself to the pool when it goes away.
class SessionLease {
 public:
  SessionLease(SessionLease&& other) noexcept;
  SessionLease& operator=(SessionLease&&) = delete;
  SessionLease(const SessionLease&) = delete;
  ~SessionLease();

  CK_SESSION_HANDLE handle() const noexcept { return handle_; }
  // The token said this session is gone: close it instead of reusing it.
  void MarkBroken() noexcept { broken_ = true; }

 private:
  friend class SessionPool;
  SessionLease(SessionPool* pool, CK_SESSION_HANDLE handle) : pool_(pool), handle_(handle) {}
  SessionPool* pool_;
  CK_SESSION_HANDLE handle_;
  bool broken_ = false;
};

class SessionPool {
 public:
  SessionPool(CK_FUNCTION_LIST* fn, CK_SLOT_ID slot, size_t max_sessions)
      : fn_(fn), slot_(slot), max_sessions_(max_sessions == 0 ? 1 : max_sessions) {}
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  // Leases a session, opening one if fewer than the maximum are open, else
  // waiting up to `wait` for one to come back (UNAVAILABLE after that).
  Result<SessionLease> Acquire(std::chrono::milliseconds wait);

  size_t open_sessions() const;

 private:
  friend class SessionLease;
  void Release(CK_SESSION_HANDLE handle, bool broken) noexcept;

  CK_FUNCTION_LIST* const fn_;
  const CK_SLOT_ID slot_;
  const size_t max_sessions_;

  mutable std::mutex mu_;            // guards idle_ and open_
  std::condition_variable idle_cv_;  // signalled when a session comes back
  std::vector<CK_SESSION_HANDLE> idle_;
  size_t open_ = 0;
};

}  // namespace station::hsm
