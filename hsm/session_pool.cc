#include "hsm/session_pool.h"

namespace station::hsm {

SessionLease::SessionLease(SessionLease&& other) noexcept
    : pool_(other.pool_), handle_(other.handle_), broken_(other.broken_) {
  other.pool_ = nullptr;
}

SessionLease::~SessionLease() {
  if (pool_ != nullptr) pool_->Release(handle_, broken_);
}

SessionPool::~SessionPool() {
  std::lock_guard<std::mutex> lock(mu_);
  for (CK_SESSION_HANDLE h : idle_) fn_->C_CloseSession(h);
}

Result<SessionLease> SessionPool::Acquire(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (idle_.empty() && open_ >= max_sessions_) {
    if (idle_cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_sessions_)
      return MakeError(Code::kUnavailable, "TOKEN_BUSY",
                       "no PKCS#11 session became free within " + std::to_string(wait.count()) +
                           " ms (" + std::to_string(max_sessions_) + " sessions, all busy)");
  }
  if (!idle_.empty()) {
    CK_SESSION_HANDLE h = idle_.back();
    idle_.pop_back();
    return SessionLease(this, h);
  }
  ++open_;
  lock.unlock();
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  CK_RV rv = fn_->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h);
  if (rv != CKR_OK) {
    lock.lock();
    --open_;
    idle_cv_.notify_one();
    return CkError(rv, "C_OpenSession");
  }
  return SessionLease(this, h);
}

void SessionPool::Release(CK_SESSION_HANDLE handle, bool broken) noexcept {
  if (broken) fn_->C_CloseSession(handle);  // may fail: it is gone already
  std::lock_guard<std::mutex> lock(mu_);
  if (broken) {
    --open_;
  } else {
    idle_.push_back(handle);
  }
  idle_cv_.notify_one();
}

size_t SessionPool::open_sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

}  // namespace station::hsm
