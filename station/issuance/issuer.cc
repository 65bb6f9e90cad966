#include "station/issuance/issuer.h"

#include <chrono>

namespace station::issuance {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* CaStateName(CaState state) noexcept {
  switch (state) {
    case CaState::kStaged: return "staged";
    case CaState::kActive: return "active";
    case CaState::kPrevious: return "previous";
    case CaState::kRetired: return "retired";
  }
  return "?";
}

Issuer::Issuer(std::string name, std::shared_ptr<const CertificateAuthority> active) : name_(std::move(name)) {
  active_ = std::make_shared<Entry>();
  active_->ca = std::move(active);
  active_->state = CaState::kActive;
  entries_.push_back(active_);
}

Issuer::~Issuer() = default;

Issuer::Lease::~Lease() {
  if (entry_) issuer_->Release(*entry_);
}

const CertificateAuthority& Issuer::Lease::ca() const noexcept { return *entry_->ca; }
std::shared_ptr<const CertificateAuthority> Issuer::Lease::ca_ptr() const noexcept { return entry_->ca; }

void Issuer::Release(Entry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  if (--entry.leases == 0 && entry.state == CaState::kRetired) released_.notify_all();
}

std::shared_ptr<Issuer::Entry> Issuer::FindLocked(const std::string& key_id_hex) const {
  for (const auto& entry : entries_)
    if (entry->ca->key_id_hex() == key_id_hex) return entry;
  return nullptr;
}

void Issuer::PromoteDueLocked(int64_t now_ms) {
  if (next_due_ms_ == 0 || now_ms < next_due_ms_) return;
  std::shared_ptr<Entry> due;
  next_due_ms_ = 0;
  for (const auto& entry : entries_) {
    if (entry->state != CaState::kStaged || entry->activate_at_unix_ms == 0) continue;
    if (entry->activate_at_unix_ms > now_ms) {
      if (next_due_ms_ == 0 || entry->activate_at_unix_ms < next_due_ms_) next_due_ms_ = entry->activate_at_unix_ms;
      continue;
    }
    // Of several due at once the latest wins; the others stay staged, unscheduled.
    if (due && due->activate_at_unix_ms > entry->activate_at_unix_ms) {
      entry->activate_at_unix_ms = 0;
      continue;
    }
    if (due) due->activate_at_unix_ms = 0;
    due = entry;
  }
  if (!due) return;
  if (active_) active_->state = CaState::kPrevious;
  due->state = CaState::kActive;
  due->activate_at_unix_ms = 0;
  active_ = due;
}

Result<Issuer::Lease> Issuer::Acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  PromoteDueLocked(NowMs());
  if (!active_)
    return MakeError(Code::kFailedPrecondition, "CA_RETIRED",
                     "the issuing CA of '" + name_ + "' is retired and no successor is active; an officer must "
                     "activate one");
  ++active_->leases;
  return Lease(this, active_);
}

Status Issuer::Stage(std::shared_ptr<const CertificateAuthority> ca) {
  std::lock_guard<std::mutex> lock(mu_);
  if (FindLocked(ca->key_id_hex()))
    return MakeError(Code::kAlreadyExists, "CA_EXISTS",
                     "issuer '" + name_ + "' already has the CA with key identifier " + ca->key_id_hex());
  auto entry = std::make_shared<Entry>();
  entry->ca = std::move(ca);
  entries_.push_back(std::move(entry));
  return {};
}

Status Issuer::Activate(const std::string& key_id_hex, int64_t at_unix_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto entry = FindLocked(key_id_hex);
  if (!entry)
    return MakeError(Code::kNotFound, "CA_NOT_FOUND", "issuer '" + name_ + "' has no CA " + key_id_hex);
  if (entry->state != CaState::kStaged)
    return MakeError(Code::kFailedPrecondition, "CA_NOT_STAGED",
                     "CA " + key_id_hex + " is " + CaStateName(entry->state) + "; only a staged CA can be activated");
  int64_t now = NowMs();
  entry->activate_at_unix_ms = at_unix_ms > now ? at_unix_ms : now;
  next_due_ms_ = next_due_ms_ == 0 ? entry->activate_at_unix_ms : std::min(next_due_ms_, entry->activate_at_unix_ms);
  PromoteDueLocked(now);
  return {};
}

Status Issuer::Retire(const std::string& key_id_hex, int64_t wait_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  auto entry = FindLocked(key_id_hex);
  if (!entry)
    return MakeError(Code::kNotFound, "CA_NOT_FOUND", "issuer '" + name_ + "' has no CA " + key_id_hex);
  entry->state = CaState::kRetired;
  entry->activate_at_unix_ms = 0;
  if (active_ == entry) active_.reset();
  PromoteDueLocked(NowMs());
  if (!released_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return entry->leases == 0; }))
    return MakeError(Code::kUnavailable, "CA_RETIRE_PENDING",
                     "CA " + key_id_hex + " is retired, but signatures with it are still in flight");
  return {};
}

void Issuer::Restore(std::shared_ptr<const CertificateAuthority> ca, CaState state, int64_t activate_at_unix_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto entry = FindLocked(ca->key_id_hex());
  if (!entry) {
    entry = std::make_shared<Entry>();
    entry->ca = std::move(ca);
    entries_.push_back(entry);
  }
  entry->state = state;
  entry->activate_at_unix_ms = state == CaState::kStaged ? activate_at_unix_ms : 0;
  if (state == CaState::kActive && active_ != entry) {
    if (active_) active_->state = CaState::kPrevious;
    active_ = entry;
  } else if (state != CaState::kActive && active_ == entry) {
    active_.reset();
  }
  if (entry->activate_at_unix_ms > 0)
    next_due_ms_ = next_due_ms_ == 0 ? entry->activate_at_unix_ms : std::min(next_due_ms_, entry->activate_at_unix_ms);
}

std::shared_ptr<const CertificateAuthority> Issuer::Find(const std::string& key_id_hex) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto entry = FindLocked(key_id_hex);
  return entry ? entry->ca : nullptr;
}

std::shared_ptr<const CertificateAuthority> Issuer::Active() {
  std::lock_guard<std::mutex> lock(mu_);
  PromoteDueLocked(NowMs());
  return active_ ? active_->ca : nullptr;
}

std::vector<Issuer::CaStatus> Issuer::List() {
  std::lock_guard<std::mutex> lock(mu_);
  PromoteDueLocked(NowMs());
  std::vector<CaStatus> out;
  for (const auto& entry : entries_) out.push_back({entry->ca, entry->state, entry->activate_at_unix_ms});
  return out;
}

}  // namespace station::issuance
