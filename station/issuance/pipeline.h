// The issuance pipeline: CSR in, durable audit record and certificate out.
//
//   Submit ─► bounded queue ─► worker (request bounds, profile rules, CSR
//   and key checks; one look at the store for the requests it took together:
//   retry lookup and registry pre-check; build the certificate)
//   ─► bounded queue ─► signer (one C_Sign in the token at a time)
//   ─► audit writer (reservation re-checked, group commit) ─► done(...)
//
// A token that hangs does not hang the lines: a watchdog answers every
// signature not made within sign_timeout UNAVAILABLE (its certificate, should
// the call come back, is dropped unreleased), and while every signer is stuck
// the workers refuse at once. A signature that does not verify with the CA
// certificate halts issuance until a restart: the token is not to be trusted.
//
// Workers do the CPU work, signers only wait on the token: a slow network
// HSM keeps all its sessions busy while the workers prepare what comes next.
// Neither waits for the disk: the writer calls `done` once the record is
// durable. No gRPC in here: callers are identified by Caller.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "station/audit/writer.h"
#include "station/base/log.h"
#include "station/base/metrics.h"
#include "station/issuance/certificate_profile.h"
#include "station/issuance/request.h"
#include "station/store/store.h"

namespace station::issuance {

// How the pipeline runs; the station's config holds one ([issuance], and
// [token] sign_timeout), so each default is written here alone.
struct PipelineOptions {
  // Threads that check requests and build certificates.
  // Default: 0, one per CPU core.
  size_t workers = 0;
  // Threads that sign in the token, one session each.
  // Default: 0, as many as workers.
  size_t signers = 0;
  // Requests waiting for a worker before RESOURCE_EXHAUSTED.
  // Default: 4096.
  size_t queue_depth = 4096;
  // Larger CSRs are refused.
  // Default: 16 KiB.
  size_t max_csr_bytes = 16 * 1024;
  // From the sign queue to a signature; later, UNAVAILABLE TOKEN_TIMEOUT.
  // Default: 10 s.
  std::chrono::milliseconds sign_timeout{10000};
  // The profile of a request that names none; empty: such a request is
  // refused PROFILE_REQUIRED. Default: none.
  std::string default_profile;

  size_t worker_count() const;  // workers, or the number of cores
  size_t signer_count() const;  // signers, or worker_count()
};

struct PipelineStats {
  uint64_t issued = 0;
  uint64_t replayed = 0;
  uint64_t failed = 0;
};

// What the pipeline counts and times for /metrics (server/metrics.h).
struct PipelineMetrics {
  metrics::CounterVec issued;   // new certificates, by profile
  metrics::CounterVec refused;  // refusals, by reason
  metrics::Histogram request;   // from Submit to the answer
  metrics::Histogram sign;      // the call into the token
};

// A request made ready for the token, or answered from the log.
struct Prepared {
  const CertificateProfile* profile = nullptr;
  std::optional<Issued> replay;            // a retry: answered without parsing or signing
  std::optional<Issuer::Lease> lease;      // keeps the signing CA from retiring until it signs
  Bytes tbs_der;                           // the certificate to sign
  audit::AuditRecord draft;                // its record, all but the certificate
  policy::Reservation reservation;         // what the registry must grant with the record
};

class Pipeline {
 public:
  using Done = std::function<void(Result<Issued>)>;

  // `profiles` must hold options.default_profile, when that is set.
  // `station_issuer` is the station's [ca] (which profiles may also use).
  static Result<std::unique_ptr<Pipeline>> Create(const PipelineOptions& options,
                                                  std::vector<std::unique_ptr<CertificateProfile>> profiles,
                                                  std::shared_ptr<Issuer> station_issuer, audit::AuditWriter* writer,
                                                  store::Store* store);
  ~Pipeline();  // Shutdown()s

  // Queues a request. `done` runs exactly once: on this thread at once when
  // the queue is full (RESOURCE_EXHAUSTED) or the pipeline is stopping, else
  // on a worker or the audit writer thread. A certificate reaches `done` only
  // after its audit record is durable.
  void Submit(Caller caller, IssueRequest request, Done done);

  // Stops taking requests and finishes every queued one. The audit writer
  // must still be running; stop it after this.
  void Shutdown();

  // One request, from bytes to a certificate to sign, without threads or a
  // token call: request bounds, profile, the CSR, policy::Authorize, one look
  // at the store (the retry lookup and the registry's pre-check), the serial
  // and the TBS. A retry is answered from the log even if its CSR would no
  // longer pass. A refusal is the request's answer.
  Result<Prepared> Prepare(const Caller& caller, const IssueRequest& request) const;
  // Several requests, each as Prepare would, with one look at the store for
  // all of them (a shared store answers in one round trip): what a worker
  // does with the requests it takes at once.
  struct Asked {
    const Caller& caller;
    const IssueRequest& request;
  };
  std::vector<Result<Prepared>> PrepareAll(const std::vector<Asked>& asked) const;

  PipelineStats stats() const;
  const PipelineMetrics& metrics() const noexcept { return metrics_; }
  // Requests waiting for a worker now.
  size_t queue_depth() const noexcept { return queued_.load(); }
  // A signature failed its check: nothing is issued until a restart.
  bool halted() const noexcept { return halted_.load(); }
  // Refuses work the token cannot take now (halted, or every signer stuck):
  // what health reports, and what each request is checked against.
  Status TokenReady() const;
  // The station's [ca] issuer; its active CA is what GetCaChain answers.
  Issuer& issuer() const noexcept { return *station_issuer_; }
  // Every distinct issuer: the station's first, then the profiles'.
  std::vector<Issuer*> issuers() const;
  // Every profile (the objects live as long as the pipeline).
  std::vector<CertificateProfile*> profiles() const;

 private:
  struct Job {
    Caller caller;
    IssueRequest request;
    Done done;
  };
  Pipeline(const PipelineOptions& options, audit::AuditWriter* writer, store::Store* store)
      : options_(options), writer_(writer), store_(store) {}

  // The answer to one request, given once: by its signer, or by the
  // watchdog when the token takes too long.
  struct Reply {
    explicit Reply(Done d) : done(std::move(d)) {}
    Done done;
    std::atomic<bool> given{false};
    bool Claim() { return !given.exchange(true); }
  };

  // A built certificate on its way to the token, with the CA lease that
  // keeps its CA from retiring until it is signed.
  struct SignTask {
    std::shared_ptr<Reply> reply;
    std::chrono::steady_clock::time_point deadline;
    const CertificateProfile* profile;
    std::optional<Issuer::Lease> lease;
    Bytes tbs_der;
    audit::AuditRecord draft;  // all but the certificate
    policy::Reservation reservation;
  };

  struct Examined;  // pipeline.cc
  // Up to the look at the store (which Complete then finishes).
  Examined Examine(const Caller& caller, const IssueRequest& request) const;
  Result<Prepared> Complete(const Caller& caller, const IssueRequest& request, Examined& examined,
                            Result<store::Store::Look> look) const;
  // A retry's answer from its `earlier` record, else `refusal`.
  Result<Prepared> ReplayOr(const Examined& examined, const IssueRequest& request,
                            std::optional<audit::AuditRecord> earlier, Error refusal) const;

  void WorkerLoop(size_t workers);
  void Process(Job& job, Result<Prepared> prepared);
  void SignLoop(size_t index);
  void Sign(SignTask& task);
  void WatchLoop();
  Result<const CertificateProfile*> FindProfile(const std::string& name) const;
  // The answer for a record; `ca` is the CA that signed it, when known (else
  // it is looked up by the record's issuer key id).
  static Issued FromRecord(const CertificateProfile& profile, const audit::AuditRecord& record, bool replayed,
                           std::shared_ptr<const CertificateAuthority> ca = nullptr);
  void Finish(const Done& done, Result<Issued> result);

  const PipelineOptions options_;
  std::map<std::string, std::unique_ptr<CertificateProfile>> profiles_;  // read-only after Create
  const CertificateProfile* default_ = nullptr;  // null: a request must name its profile
  std::shared_ptr<Issuer> station_issuer_;
  audit::AuditWriter* writer_;
  store::Store* store_;

  std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), for the audit writer's probe
  bool stopping_ = false;
  std::vector<std::thread> workers_;

  std::mutex sign_mu_;  // guards sign_queue_, signing_, signers_stopping_, watch_stopping_
  std::condition_variable sign_cv_;
  std::deque<SignTask> sign_queue_;
  size_t sign_queue_limit_ = 4;
  bool signers_stopping_ = false;
  std::vector<std::thread> signers_;
  struct InToken {  // what one signer is waiting on the token for
    std::shared_ptr<Reply> reply;
    std::chrono::steady_clock::time_point deadline;
  };
  std::vector<InToken> signing_;  // one per signer
  bool watch_stopping_ = false;
  std::condition_variable watch_cv_;
  std::thread watchdog_;
  std::atomic<bool> stalled_{false};  // every signer is past its deadline in the token
  std::atomic<bool> halted_{false};   // a signature failed its check: no more issuance

  std::atomic<uint64_t> issued_{0}, replayed_{0}, failed_{0};
  PipelineMetrics metrics_;
  base::RateLimitedLog refusals_{10};  // each refusal: the line, its request id, the reason
};

}  // namespace station::issuance
