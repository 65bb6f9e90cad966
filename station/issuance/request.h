// What the pipeline is asked to do, and by whom. No gRPC types here: the
// service translates its messages into these.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/base/ossl.h"

namespace station::issuance {

enum class Role { kLine, kOfficer };
const char* RoleName(Role role) noexcept;

// Who is asking, as proven by the TLS client certificate.
struct Caller {
  std::string identity;  // the client certificate's CN, e.g. "line-1"
  Role role = Role::kLine;
};

struct IssueRequest {
  std::string request_id;
  Bytes csr_der;
  std::string profile;  // "" means the station's default profile
  std::string device_id;
  std::map<std::string, std::string> attributes;
  std::string thing_name;  // AWS IoT registry fields, checked against the profile
  std::string thing_type;
  std::map<std::string, std::string> thing_attributes;
};

// Bounds on the request's own fields (the CSR is checked separately).
constexpr size_t kMaxRequestIdBytes = 128;
constexpr size_t kMaxAttributes = 32;
constexpr size_t kMaxAttributeKeyBytes = 64;
constexpr size_t kMaxAttributeValueBytes = 1024;
constexpr size_t kMaxProfileNameBytes = 64;
constexpr size_t kMaxThingFieldBytes = 128;      // AWS IoT: thing names, types, attribute names
constexpr size_t kMaxThingAttributes = 50;       // AWS IoT: with a thing type
constexpr size_t kMaxThingAttributeValueBytes = 800;

// Checks the caller may issue and the request's fields are within bounds
// (the profile's own rules come later): INVALID_ARGUMENT (REQUEST_ID_INVALID,
// DEVICE_ID_INVALID, ATTRIBUTES_INVALID, THING_INVALID, UNKNOWN_PROFILE for an
// overlong name) or PERMISSION_DENIED (ROLE_NOT_ALLOWED).
Status ValidateRequest(const Caller& caller, const IssueRequest& request);

// What one issuance produced, as the caller receives it.
struct Issued {
  Bytes certificate_der;
  std::vector<Bytes> chain_der;  // issuing CA first
  std::string serial_hex;
  std::string certificate_id;  // lowercase hex SHA-256 of certificate_der
  uint64_t audit_seq = 0;
  bool replayed = false;  // a retry answered from the audit log
};

}  // namespace station::issuance
