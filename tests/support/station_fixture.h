// A real station in a test process: a fresh development station (its own
// SoftHSM token, CA, audit key, profiles) opened with runtime::Station, and a
// way to ask it for a certificate the way a line does, through the pipeline.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "station/runtime/station.h"
#include "tests/support/dev_station.h"

namespace station::testing {

class StationTest : public ::testing::Test {
 protected:
  // Makes the development station (its CA key of `ca_key`), lets `configure`
  // change its config, opens it.
  void Open(const std::function<void(config::StationConfig&)>& configure = {}, const std::string& ca_key = "ec-p256");
  // The same station again, as after a restart.
  void Reopen();
  // One request through the pipeline, answered once its record is durable.
  Result<issuance::Issued> Submit(const issuance::Caller& caller, issuance::IssueRequest request);
  // A request for a fresh P-256 device key; asked again for the same id, the
  // same CSR, as a line retries. Thread-safe.
  issuance::IssueRequest RequestFor(const std::string& request_id);

  std::unique_ptr<DevStation> dev_;
  std::unique_ptr<runtime::Station> station_;

 private:
  std::mutex csrs_mu_;
  std::map<std::string, Bytes> csrs_;  // by request id
};

}  // namespace station::testing
