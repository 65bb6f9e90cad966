#include "station/issuance/pipeline.h"

#include <algorithm>

#include "station/base/duration.h"
#include "station/base/log.h"
#include "station/base/text.h"
#include "station/base/thread_name.h"
#include "station/issuance/csr.h"
#include "station/pki/cert_builder.h"
#include "station/policy/authorize.h"
#include "station/policy/request_rules.h"

namespace station::issuance {
namespace {

Error TokenTimeout(std::chrono::milliseconds timeout) {
  return MakeError(Code::kUnavailable, "TOKEN_TIMEOUT",
                   "the token did not sign within " + std::to_string(timeout.count()) +
                       " ms; retry with the same request_id");
}

Error Halted() {
  return MakeError(Code::kInternal, "ISSUANCE_HALTED",
                   "issuance is halted: a signature from the token did not verify (see the station's log); "
                   "an operator must check the token and restart the station");
}

// Requests a worker prepares together, with one look at the store.
constexpr size_t kJobsPerLook = 16;

}  // namespace

size_t PipelineOptions::worker_count() const {
  if (workers > 0) return workers;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 2 : cores;
}

size_t PipelineOptions::signer_count() const { return signers > 0 ? signers : worker_count(); }

Result<std::unique_ptr<Pipeline>> Pipeline::Create(const PipelineOptions& options,
                                                   std::vector<std::unique_ptr<CertificateProfile>> profiles,
                                                   std::shared_ptr<Issuer> station_issuer, audit::AuditWriter* writer,
                                                   store::Store* store) {
  std::unique_ptr<Pipeline> p(new Pipeline(options, writer, store));
  p->station_issuer_ = std::move(station_issuer);
  for (auto& profile : profiles) {
    std::string name = profile->profile().name;
    p->profiles_[name] = std::move(profile);
  }
  if (!options.default_profile.empty()) {
    auto found = p->profiles_.find(options.default_profile);
    if (found == p->profiles_.end())
      return MakeError(Code::kFailedPrecondition, "BAD_CONFIG",
                       "[issuance] default_profile '" + options.default_profile +
                           "' is not one of the profiles in profiles_dir");
    p->default_ = found->second.get();
  }
  const size_t workers = options.worker_count();
  const size_t signers = options.signer_count();
  p->sign_queue_limit_ = 2 * signers;
  p->signing_.resize(signers);
  for (size_t i = 0; i < workers; ++i)
    p->workers_.emplace_back([raw = p.get(), i, workers] {
      base::NameThisThread("worker-" + std::to_string(i));
      raw->WorkerLoop(workers);
    });
  for (size_t i = 0; i < signers; ++i)
    p->signers_.emplace_back([raw = p.get(), i] {
      base::NameThisThread("signer-" + std::to_string(i));
      raw->SignLoop(i);
    });
  p->watchdog_ = std::thread([raw = p.get()] {
    base::NameThisThread("sign-watchdog");
    raw->WatchLoop();
  });
  // Saturated: every worker has several requests waiting (one or two queue
  // now and then at half load; at full load hundreds do).
  writer->SetSaturationProbe([raw = p.get(), workers] { return raw->queued_.load() >= 4 * workers; });
  return p;
}

Pipeline::~Pipeline() {
  Shutdown();
  writer_->SetSaturationProbe(nullptr);
}

void Pipeline::Submit(Caller caller, IssueRequest request, Done answer) {
  Done done = [this, answer = std::move(answer), arrived = std::chrono::steady_clock::now(),
               line = caller.identity, request_id = request.request_id](Result<Issued> r) {
    metrics_.request.Observe(std::chrono::steady_clock::now() - arrived);
    if (!r.ok())
      refusals_.Warning("refused " + line + " request '" + request_id + "': " + r.error().ToString());
    answer(std::move(r));
  };
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopping_;
    if (!stopping && queue_.size() < options_.queue_depth) {
      queue_.push_back(Job{std::move(caller), std::move(request), std::move(done)});
      queued_ = queue_.size();
      cv_.notify_one();
      return;
    }
  }
  // Refusals are answered outside the lock: `done` may take locks of its own.
  if (stopping)
    return Finish(done, MakeError(Code::kUnavailable, "SHUTTING_DOWN",
                                  "the station is shutting down; retry with the same request_id"));
  Finish(done, MakeError(Code::kResourceExhausted, "QUEUE_FULL",
                         "the station's queue is full (" + std::to_string(options_.queue_depth) +
                             " requests); slow down and retry with the same request_id"));
}

void Pipeline::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  // The workers have handed over everything they built: the signers finish it.
  {
    std::lock_guard<std::mutex> lock(sign_mu_);
    signers_stopping_ = true;
  }
  sign_cv_.notify_all();
  for (auto& t : signers_)
    if (t.joinable()) t.join();
  {
    std::lock_guard<std::mutex> lock(sign_mu_);
    watch_stopping_ = true;
  }
  watch_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

PipelineStats Pipeline::stats() const {
  return PipelineStats{issued_.load(), replayed_.load(), failed_.load()};
}

void Pipeline::WorkerLoop(size_t workers) {
  for (;;) {
    std::vector<Job> jobs;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      // Its share of what waits: one look at the store serves them all.
      const size_t share = std::clamp<size_t>(queue_.size() / workers, 1, kJobsPerLook);
      while (jobs.size() < share) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_ = queue_.size();
    }
    std::vector<Asked> asked;
    for (const Job& job : jobs) asked.push_back({job.caller, job.request});
    std::vector<Result<Prepared>> prepared = PrepareAll(asked);
    for (size_t i = 0; i < jobs.size(); ++i) Process(jobs[i], std::move(prepared[i]));
  }
}

void Pipeline::Finish(const Done& done, Result<Issued> result) {
  if (!result.ok()) {
    ++failed_;
    metrics_.refused.Add(result.error().reason);
  } else if (result->replayed) {
    ++replayed_;
  } else {
    ++issued_;
  }
  done(std::move(result));
}

std::vector<CertificateProfile*> Pipeline::profiles() const {
  std::vector<CertificateProfile*> out;
  for (const auto& [name, profile] : profiles_) out.push_back(profile.get());
  return out;
}

Result<const CertificateProfile*> Pipeline::FindProfile(const std::string& name) const {
  if (name.empty() && default_ != nullptr) return default_;
  if (name.empty())
    return MakeError(Code::kInvalidArgument, "PROFILE_REQUIRED",
                     "the request names no profile and this station has no [issuance] default_profile; "
                     "set SignRequest.profile");
  auto it = profiles_.find(name);
  if (it != profiles_.end()) return it->second.get();
  std::string known;
  for (const auto& [known_name, profile] : profiles_) known += (known.empty() ? "" : ", ") + known_name;
  return MakeError(Code::kPermissionDenied, "UNKNOWN_PROFILE",
                   "profile '" + name + "' does not exist on this station (known: " + known + ")");
}

std::vector<Issuer*> Pipeline::issuers() const {
  std::vector<Issuer*> out{station_issuer_.get()};
  for (const auto& [name, profile] : profiles_)
    if (std::find(out.begin(), out.end(), &profile->issuer()) == out.end()) out.push_back(&profile->issuer());
  return out;
}

Issued Pipeline::FromRecord(const CertificateProfile& profile, const audit::AuditRecord& record, bool replayed,
                            std::shared_ptr<const CertificateAuthority> ca) {
  Issued out;
  out.certificate_der = record.certificate_der;
  if (!ca) ca = profile.issuer().Find(record.issuer_key_id);
  if (ca) out.chain_der = ca->chain_der();  // a CA this station no longer has: the certificate alone
  out.serial_hex = record.serial_hex;
  out.certificate_id = record.certificate_id;
  out.audit_seq = record.seq;
  out.replayed = replayed;
  return out;
}

// A request checked up to its look at the store, or already answered.
struct Pipeline::Examined {
  std::optional<Result<Prepared>> answer;  // a refusal or a retry's record, before any look
  const CertificateProfile* profile = nullptr;
  std::string csr_sha256;
  std::optional<CheckedCsr> csr;
  policy::Reservation reservation;
};

Result<Prepared> Pipeline::Prepare(const Caller& caller, const IssueRequest& req) const {
  return std::move(PrepareAll({{caller, req}}).front());
}

std::vector<Result<Prepared>> Pipeline::PrepareAll(const std::vector<Asked>& asked) const {
  std::vector<Examined> examined;
  std::vector<store::IssuanceAsked> looks;
  for (const Asked& a : asked) {
    examined.push_back(Examine(a.caller, a.request));
    if (!examined.back().answer) looks.push_back({a.caller.identity, a.request.request_id, examined.back().reservation});
  }
  // One look at the store for all of them: a retry, or else duplicates and
  // unauthorized devices refused before the token does any work. The audit
  // writer checks again, atomically, when it appends the record.
  std::vector<Result<store::Store::Look>> found;
  if (!looks.empty()) found = store_->LookBeforeSigning(looks, base::NowUnixMs());
  std::vector<Result<Prepared>> out;
  size_t next_look = 0;
  for (size_t i = 0; i < asked.size(); ++i) {
    if (examined[i].answer) {
      out.push_back(std::move(*examined[i].answer));
    } else {
      Result<store::Store::Look> look = next_look < found.size()
                                            ? std::move(found[next_look])
                                            : Result<store::Store::Look>(MakeError(
                                                  Code::kInternal, "STORE_MISUSED", "the store answered too few looks"));
      ++next_look;
      out.push_back(Complete(asked[i].caller, asked[i].request, examined[i], std::move(look)));
    }
  }
  return out;
}

Result<Prepared> Pipeline::ReplayOr(const Examined& e, const IssueRequest& req,
                                    std::optional<audit::AuditRecord> earlier, Error refusal) const {
  if (!earlier) return refusal;
  if (earlier->csr_sha256 != e.csr_sha256) return audit::RequestIdReused(req.request_id);
  Prepared out;
  out.profile = e.profile;
  out.replay = FromRecord(*e.profile, *earlier, true);
  return out;
}

Pipeline::Examined Pipeline::Examine(const Caller& caller, const IssueRequest& req) const {
  Examined e;
  if (Status valid = ValidateRequest(caller, req); !valid.ok()) {
    e.answer.emplace(valid.error());
    return e;
  }
  auto profile = FindProfile(req.profile);
  if (!profile.ok()) {
    e.answer.emplace(profile.error());
    return e;
  }
  e.profile = *profile;
  // A retry is answered from the log, whatever this request would meet now.
  e.csr_sha256 = Hex(Sha256(req.csr_der));
  // A request refused before the store was asked may still be a retry.
  auto refused = [&](Error refusal) {
    auto earlier = store_->FindByRequest(caller.identity, req.request_id);
    e.answer.emplace(earlier.ok() ? ReplayOr(e, req, std::move(*earlier), std::move(refusal))
                                  : Result<Prepared>(earlier.error()));
    return std::move(e);
  };
  auto checked = CheckCsr(req.csr_der, options_.max_csr_bytes);
  if (!checked.ok()) return refused(checked.error());
  e.csr.emplace(std::move(*checked));
  policy::RequestFacts facts{caller.identity, req.device_id,  req.attributes,
                             req.thing_name,  req.thing_type, req.thing_attributes};
  auto reservation = policy::Authorize(e.profile->profile(), *e.profile->lines(), facts,
                                       {e.csr->key_type, Hex(Sha256(e.csr->spki_der))});
  if (!reservation.ok()) return refused(reservation.error());
  e.reservation = std::move(*reservation);
  return e;
}

Result<Prepared> Pipeline::Complete(const Caller& caller, const IssueRequest& req, Examined& e,
                                    Result<store::Store::Look> found) const {
  ST_ASSIGN_OR_RETURN(store::Store::Look look, std::move(found));
  if (look.earlier) return ReplayOr(e, req, std::move(look.earlier), Error{});
  if (!look.authorization.ok()) {
    // A copy of this very request may have been recorded since (then its key
    // and device are "taken" by itself): only a refusal looks again.
    auto raced = store_->FindByRequest(caller.identity, req.request_id);
    if (raced.ok() && raced->has_value() && (*raced)->csr_sha256 == e.csr_sha256)
      return ReplayOr(e, req, std::move(*raced), Error{});
    return look.authorization.error();
  }

  const CertificateProfile* profile = e.profile;
  const policy::Profile& rules = profile->profile();
  policy::RequestFacts facts{caller.identity, req.device_id,  req.attributes,
                             req.thing_name,  req.thing_type, req.thing_attributes};
  Prepared out;
  out.profile = profile;
  out.reservation = std::move(e.reservation);
  std::string thing_name = policy::EffectiveThingName(facts);
  policy::TemplateInput input{req.device_id, thing_name, req.thing_type, req.attributes};
  ST_ASSIGN_OR_RETURN(auto serial, pki::RandomSerial());
  // The lease keeps the CA from being retired between building and signing.
  auto lease = profile->issuer().Acquire();
  if (!lease.ok()) return lease.error();
  out.lease.emplace(std::move(*lease));
  const CertificateAuthority& ca = out.lease->ca();
  ST_ASSIGN_OR_RETURN(auto unsigned_cert, profile->Build(*e.csr, input, serial.get(), ca));
  out.tbs_der = std::move(unsigned_cert.tbs_der);

  audit::AuditRecord& draft = out.draft;
  draft.request_id = req.request_id;
  draft.caller = caller.identity;
  draft.device_id = req.device_id;
  draft.profile = rules.name;
  draft.serial_hex = pki::SerialHex(serial.get());
  draft.spki_sha256 = out.reservation.spki_sha256;
  draft.subject = pki::NameText(unsigned_cert.subject.get());
  draft.issuer_key_id = ca.key_id_hex();
  draft.csr_sha256 = std::move(e.csr_sha256);
  draft.thing_name = std::move(thing_name);
  draft.thing_type = req.thing_type;
  draft.thing_attributes = JsonObject(req.thing_attributes);
  return out;
}

void Pipeline::Process(Job& job, Result<Prepared> prepared) {
  if (!prepared.ok()) return Finish(job.done, prepared.error());
  if (prepared->replay) return Finish(job.done, std::move(*prepared->replay));
  if (Status st = TokenReady(); !st.ok()) return Finish(job.done, st.error());
  SignTask task{std::make_shared<Reply>(std::move(job.done)),
                std::chrono::steady_clock::now() + options_.sign_timeout,
                prepared->profile,
                std::move(prepared->lease),
                std::move(prepared->tbs_der),
                std::move(prepared->draft),
                std::move(prepared->reservation)};
  {
    // Bounded: when the token falls behind, the workers wait here, not memory;
    // when it hangs, they give up with the task's deadline.
    std::unique_lock<std::mutex> lock(sign_mu_);
    if (!sign_cv_.wait_until(lock, task.deadline,
                             [this] { return stalled_ || sign_queue_.size() < sign_queue_limit_; }) ||
        stalled_) {
      lock.unlock();
      Status ready = TokenReady();
      return Finish(task.reply->done, ready.ok() ? TokenTimeout(options_.sign_timeout) : ready.error());
    }
    sign_queue_.push_back(std::move(task));
  }
  sign_cv_.notify_all();
}

Status Pipeline::TokenReady() const {
  if (halted_) return Halted();
  if (stalled_)
    return MakeError(Code::kUnavailable, "TOKEN_STALLED",
                     "every signer has waited on the token for more than " +
                         std::to_string(options_.sign_timeout.count()) + " ms; retry later with the same request_id");
  return {};
}

void Pipeline::WatchLoop() {
  const auto tick = std::clamp(options_.sign_timeout / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
  std::unique_lock<std::mutex> lock(sign_mu_);
  while (!watch_stopping_) {
    watch_cv_.wait_for(lock, tick);
    const auto now = std::chrono::steady_clock::now();
    std::deque<SignTask> expired, kept;  // expired ones go outside the lock (they hold CA leases)
    while (!sign_queue_.empty()) {
      (sign_queue_.front().deadline <= now ? expired : kept).push_back(std::move(sign_queue_.front()));
      sign_queue_.pop_front();
    }
    sign_queue_.swap(kept);
    std::vector<std::shared_ptr<Reply>> late;
    for (const InToken& in : signing_)
      if (in.reply && in.deadline <= now) late.push_back(in.reply);
    const bool stalled = !signing_.empty() && late.size() == signing_.size();
    if (stalled != stalled_.exchange(stalled))
      base::LogError(stalled ? "token stalled: every signer has waited more than " +
                                     std::to_string(options_.sign_timeout.count()) + " ms for a signature"
                               : "token answers again");
    lock.unlock();
    sign_cv_.notify_all();  // workers waiting for room see the expired gone, or the stall
    for (const SignTask& task : expired) late.push_back(task.reply);
    for (const auto& reply : late)
      if (reply->Claim()) Finish(reply->done, TokenTimeout(options_.sign_timeout));
    expired.clear();
    lock.lock();
  }
}

void Pipeline::SignLoop(size_t index) {
  for (;;) {
    std::optional<SignTask> task;
    {
      std::unique_lock<std::mutex> lock(sign_mu_);
      sign_cv_.wait(lock, [this] { return signers_stopping_ || !sign_queue_.empty(); });
      if (sign_queue_.empty()) return;  // stopping and drained
      task.emplace(std::move(sign_queue_.front()));
      sign_queue_.pop_front();
      signing_[index] = InToken{task->reply, task->deadline};
    }
    sign_cv_.notify_all();  // room for a worker
    Sign(*task);
    task.reset();
    std::lock_guard<std::mutex> lock(sign_mu_);
    signing_[index] = InToken{};
  }
}

void Pipeline::Sign(SignTask& task) {
  if (halted_) {
    if (task.reply->Claim()) Finish(task.reply->done, Halted());
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  auto cert_der = task.lease->ca().Sign(task.tbs_der);
  metrics_.sign.Observe(std::chrono::steady_clock::now() - started);
  if (!cert_der.ok() && cert_der.error().fault == Fault::kSignatureInvalid && !halted_.exchange(true))
    base::LogError("ALARM: issuance halted: " + cert_der.error().message +
                   ". Every request is refused ISSUANCE_HALTED until the station restarts; check the token.");
  // The watchdog may have answered already: then nothing of this call is released.
  if (!task.reply->Claim()) {
    if (cert_der.ok()) base::LogInfo("a signature came back after its request timed out; certificate dropped");
    return;
  }
  const Done& done = task.reply->done;
  if (!cert_der.ok()) return Finish(done, cert_der.error());
  task.draft.certificate_der = std::move(*cert_der);
  task.draft.certificate_id = Hex(Sha256(task.draft.certificate_der));
  std::shared_ptr<const CertificateAuthority> signer = task.lease->ca_ptr();
  task.lease.reset();  // signed: the CA may be retired now
  writer_->Append(std::move(task.draft), std::move(task.reservation),
                  [this, profile = task.profile, signer, reply = task.reply](Result<audit::AppendOutcome> outcome) {
                    const Done& done = reply->done;
                    if (!outcome.ok()) return Finish(done, outcome.error());
                    if (!outcome->replayed) metrics_.issued.Add(profile->profile().name);
                    // A replayed outcome is an earlier record, perhaps of another CA.
                    Finish(done, FromRecord(*profile, outcome->record, outcome->replayed,
                                            outcome->replayed ? nullptr : signer));
                  });
}

}  // namespace station::issuance
