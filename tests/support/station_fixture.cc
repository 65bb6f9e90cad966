#include "tests/support/station_fixture.h"

#include <future>

#include "tests/support/csr_factory.h"

namespace station::testing {

void StationTest::Open(const std::function<void(config::StationConfig&)>& configure, const std::string& ca_key) {
  dev_ = MakeDevStation(ca_key);
  ASSERT_TRUE(dev_);
  if (configure) configure(dev_->config);
  Reopen();
}

void StationTest::Reopen() {
  if (station_) station_->Shutdown();
  station_.reset();
  auto station = runtime::Station::Open(dev_->config);
  ASSERT_TRUE(station.ok()) << station.error().ToString();
  station_ = std::move(*station);
}

Result<issuance::Issued> StationTest::Submit(const issuance::Caller& caller, issuance::IssueRequest request) {
  std::promise<Result<issuance::Issued>> done;
  station_->pipeline().Submit(caller, std::move(request),
                              [&](Result<issuance::Issued> r) { done.set_value(std::move(r)); });
  return done.get_future().get();
}

issuance::IssueRequest StationTest::RequestFor(const std::string& request_id) {
  issuance::IssueRequest request;
  request.request_id = request_id;
  std::lock_guard<std::mutex> lock(csrs_mu_);
  Bytes& csr = csrs_[request_id];
  if (csr.empty()) csr = MakeCsr("ec-p256", request_id).der;
  request.csr_der = csr;
  return request;
}

}  // namespace station::testing
