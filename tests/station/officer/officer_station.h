// A real station with three officers (k = 2) on a fresh SoftHSM token, for
// tests of what officers do to it, and a way to ask it for a certificate as
// a line would.
#pragma once

#include <map>
#include <string>

#include "tests/support/csr_factory.h"
#include "tests/support/station_fixture.h"

namespace station::testing {

class OfficerStationTest : public StationTest {
 protected:
  void Open(int64_t ttl_s = 3600) {
    StationTest::Open([ttl_s](config::StationConfig& config) {
      config.officers.members = {"officer-1", "officer-2", "officer-3"};
      config.officers.approvals_required = 2;
      config.officers.approval_ttl_s = ttl_s;
    });
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
    return Submit({line, issuance::Role::kLine}, std::move(r));
  }

  int next_id_ = 0;
};

}  // namespace station::testing
