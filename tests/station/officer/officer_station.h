// A real station with three officers (k = 2) on a fresh SoftHSM token, for
// tests of what officers do to it, and a way to ask it for a certificate as
// a line would.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>

#include "station/runtime/station.h"
#include "tests/support/csr_factory.h"
#include "tests/support/dev_station.h"

namespace station::testing {

class OfficerStationTest : public ::testing::Test {
 protected:
  void Open(int64_t ttl_s = 3600) {
    dev_ = MakeDevStation();
    ASSERT_TRUE(dev_);
    dev_->config.officers.members = {"officer-1", "officer-2", "officer-3"};
    dev_->config.officers.approvals_required = 2;
    dev_->config.officers.approval_ttl_s = ttl_s;
    Reopen();
  }
  // The same station again, as after a restart.
  void Reopen() {
    if (station_) station_->Shutdown();
    station_.reset();
    auto station = runtime::Station::Open(dev_->config);
    ASSERT_TRUE(station.ok()) << station.error().ToString();
    station_ = std::move(*station);
  }
  officer::OfficerDesk& desk() { return station_->officer_desk(); }
  officer::RegistryDesk& registry() { return station_->registry_desk(); }

  // One certificate request through the pipeline, as `line` sends it.
  Result<issuance::Issued> Issue(const std::string& device_id, const std::string& line = "line-1",
                                 const std::string& profile = "aws-iot-device",
                                 std::map<std::string, std::string> attributes = {}) {
    issuance::IssueRequest r;
    r.request_id = "r" + std::to_string(next_id_++);
    r.profile = profile;
    r.device_id = device_id;
    r.attributes = std::move(attributes);
    r.csr_der = MakeCsr("ec-p256").der;
    std::promise<Result<issuance::Issued>> done;
    station_->pipeline().Submit({line, issuance::Role::kLine}, std::move(r),
                                [&](Result<issuance::Issued> x) { done.set_value(std::move(x)); });
    return done.get_future().get();
  }

  std::unique_ptr<DevStation> dev_;
  std::unique_ptr<runtime::Station> station_;
  int next_id_ = 0;
};

}  // namespace station::testing
