#include "station/server/line_service.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "station/base/thread_name.h"
#include "station/server/caller.h"
#include "station/server/request_message.h"
#include "station/server/status.h"

namespace station::server {
namespace {

// One SignStream's answers on their way out, and how many are still owed.
// Shared with the pipeline's callbacks, which may outlive the handler's frame.
struct StreamState {
  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  std::deque<v1::SignResponse> outbox;
  size_t inflight = 0;  // read and not yet written back: a client that does not read stops being read
  bool reading_done = false;
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
};

}  // namespace

grpc::Status LineService::SignStream(grpc::ServerContext* context,
                                     grpc::ServerReaderWriter<v1::SignResponse, v1::SignRequest>* stream) {
  auto caller = CallerFromContext(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.error());
  auto slot = slots_.Acquire(caller->identity);
  if (!slot.ok()) return ToGrpcStatus(slot.error());
  auto state = std::make_shared<StreamState>();

  // The writer sends answers in completion order. gRPC allows one reader and
  // one writer on a stream at the same time.
  // It also ends a stream that has been idle too long (nothing in flight,
  // no message): a client holding slots open while sending nothing.
  const auto idle_timeout = std::chrono::seconds(limits_.stream_idle_timeout_s);
  std::thread writer([state, stream, context, idle_timeout] {
    base::NameThisThread("stream-writer");
    bool broken = false;
    std::unique_lock<std::mutex> lock(state->mu);
    for (;;) {
      const bool woken = state->cv.wait_until(lock, state->last_activity + idle_timeout, [&] {
        return !state->outbox.empty() || (state->reading_done && state->inflight == 0);
      });
      if (!woken) {
        const auto now = std::chrono::steady_clock::now();
        if (now < state->last_activity + idle_timeout) continue;  // activity while it waited
        if (state->inflight == 0 && !state->reading_done) context->TryCancel();  // the reader's Read returns false
        // Requests still in work are not idleness: look again a whole timeout later, not at once.
        state->last_activity = now;
        continue;
      }
      if (state->outbox.empty()) return;
      v1::SignResponse response = std::move(state->outbox.front());
      state->outbox.pop_front();
      lock.unlock();
      // No buffer_hint: a sync Write with it waits for a flush that a later
      // write would have to trigger, and stalls the stream.
      if (!broken) broken = !stream->Write(response);
      lock.lock();
      --state->inflight;  // sent (or dropped with a broken stream): room to read one more
      state->last_activity = std::chrono::steady_clock::now();
      state->cv.notify_all();
    }
  });

  v1::SignRequest msg;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(state->mu);
      // Backpressure: stop reading while this stream has its fill in flight.
      state->cv.wait(lock, [&] { return state->inflight < limits_.max_inflight_per_stream; });
    }
    if (!stream->Read(&msg)) break;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      ++state->inflight;
      state->last_activity = std::chrono::steady_clock::now();
    }
    std::string request_id = msg.request_id();
    pipeline_.Submit(*caller, ToIssueRequest(msg), [state, request_id](Result<issuance::Issued> outcome) {
      v1::SignResponse response;
      response.set_request_id(request_id);
      FillResponse(outcome, response);
      std::lock_guard<std::mutex> lock(state->mu);
      state->outbox.push_back(std::move(response));
      state->cv.notify_all();
    });
  }
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->reading_done = true;
    state->cv.notify_all();
  }
  writer.join();
  return grpc::Status::OK;
}

grpc::Status LineService::Sign(grpc::ServerContext* context, const v1::SignRequest* request,
                               v1::SignResponse* response) {
  auto caller = CallerFromContext(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.error());
  // A unary call is a stream of one: it holds a slot while in work, so a
  // line cannot get around max_streams(_per_line) with many unary calls.
  auto slot = slots_.Acquire(caller->identity);
  if (!slot.ok()) return ToGrpcStatus(slot.error());
  std::promise<Result<issuance::Issued>> promise;
  auto future = promise.get_future();
  pipeline_.Submit(*caller, ToIssueRequest(*request),
                   [&promise](Result<issuance::Issued> outcome) { promise.set_value(std::move(outcome)); });
  // The pipeline always answers; waiting here cannot hang past its own bounds
  // (queue depth, token session wait).
  response->set_request_id(request->request_id());
  FillResponse(future.get(), *response);
  return grpc::Status::OK;
}

grpc::Status LineService::GetCaChain(grpc::ServerContext* context, const v1::GetCaChainRequest*,
                                     v1::GetCaChainResponse* response) {
  auto caller = CallerFromContext(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.error());
  auto ca = pipeline_.issuer().Active();
  if (!ca)
    return ToGrpcStatus(MakeError(Code::kFailedPrecondition, "CA_RETIRED",
                                  "the station's issuing CA ([ca]) is retired and no successor is active"));
  for (const Bytes& der : ca->chain_der()) response->add_chain_der(der.data(), der.size());
  return grpc::Status::OK;
}

}  // namespace station::server
