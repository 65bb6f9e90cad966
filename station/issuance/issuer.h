// An issuer: the line of issuing CAs a set of profiles issues under (the
// station's [ca], or a profile's own CA), changeable while the pipeline runs.
// That is what makes rotation free of downtime: an officer stages the next
// CA, activates it (now or at a set time), and retires the old one, while
// workers keep signing.
//
// Every request takes a lease on the active CA before it builds its
// certificate and holds it until the signature is made, so the certificate's
// issuer, AuthorityKeyIdentifier and signing key always belong to one CA.
// Retire() waits for the leases on that CA to end: once it returns, nothing
// more is signed with the retired key. The mutex is held only to pick the CA
// and count the lease, never across a C_Sign.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "station/issuance/certificate_authority.h"

namespace station::issuance {

enum class CaState { kStaged, kActive, kPrevious, kRetired };
const char* CaStateName(CaState state) noexcept;

class Issuer {
  struct Entry;

 public:
  Issuer(std::string name, std::shared_ptr<const CertificateAuthority> active);
  ~Issuer();
  Issuer(const Issuer&) = delete;
  Issuer& operator=(const Issuer&) = delete;

  const std::string& name() const noexcept { return name_; }

  // The right to sign with one CA until it is destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : issuer_(other.issuer_), entry_(std::move(other.entry_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    const CertificateAuthority& ca() const noexcept;
    std::shared_ptr<const CertificateAuthority> ca_ptr() const noexcept;

   private:
    friend class Issuer;
    Lease(Issuer* issuer, std::shared_ptr<Entry> entry) : issuer_(issuer), entry_(std::move(entry)) {}
    Issuer* issuer_;
    std::shared_ptr<Entry> entry_;
  };

  // A lease on the active CA, after activating a staged one whose time has
  // come. FAILED_PRECONDITION CA_RETIRED when the issuer has none left.
  Result<Lease> Acquire();

  // Adds a CA that new requests do not use yet. ALREADY_EXISTS CA_EXISTS for
  // a key identifier the issuer has had before (a retired CA never returns).
  Status Stage(std::shared_ptr<const CertificateAuthority> ca);

  // Makes a staged CA the active one at `at_unix_ms` (now when 0 or past);
  // the one it replaces becomes PREVIOUS: no new certificates, but retries
  // answered from the log still get its chain. NOT_FOUND CA_NOT_FOUND, or
  // FAILED_PRECONDITION CA_NOT_STAGED.
  Status Activate(const std::string& key_id_hex, int64_t at_unix_ms = 0);

  // Retires a CA for good: once this returns, nothing is signed with it.
  // Retiring the active CA leaves the issuer without one (its profiles answer
  // CA_RETIRED) unless a staged CA is due. Waits at most `wait_ms` for the
  // signatures in flight with it (UNAVAILABLE CA_RETIRE_PENDING after that;
  // it stays retired).
  Status Retire(const std::string& key_id_hex, int64_t wait_ms = 30000);

  // Puts a CA back in the state officers left it in (officer/ca_set.h), at
  // start, before any request: adds it unless the issuer holds it already,
  // and sets its state. Restoring an active CA makes the one active before
  // it previous.
  void Restore(std::shared_ptr<const CertificateAuthority> ca, CaState state, int64_t activate_at_unix_ms);

  // Any CA this issuer has held, by its subjectKeyIdentifier (hex); null if none.
  std::shared_ptr<const CertificateAuthority> Find(const std::string& key_id_hex) const;

  // The active CA, or null.
  std::shared_ptr<const CertificateAuthority> Active();

  struct CaStatus {
    std::shared_ptr<const CertificateAuthority> ca;
    CaState state = CaState::kStaged;
    int64_t activate_at_unix_ms = 0;  // staged with a set time; 0 otherwise
  };
  std::vector<CaStatus> List();

 private:
  struct Entry {
    std::shared_ptr<const CertificateAuthority> ca;
    CaState state = CaState::kStaged;
    int64_t activate_at_unix_ms = 0;
    int64_t leases = 0;  // guarded by mu_
  };

  std::shared_ptr<Entry> FindLocked(const std::string& key_id_hex) const;
  void PromoteDueLocked(int64_t now_ms);
  void Release(Entry& entry);

  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable released_;
  std::vector<std::shared_ptr<Entry>> entries_;  // in the order they came
  std::shared_ptr<Entry> active_;
  int64_t next_due_ms_ = 0;  // earliest staged activation time; 0 when none
};

}  // namespace station::issuance
