// One issuance as a line of each line-oriented export format.
#pragma once

#include <map>
#include <string>

#include "station/audit/record.h"

namespace station::exports {

// What the formats need from the certificate itself.
struct CertFacts {
  std::string issuer;     // RFC 2253
  std::string not_after;  // "2036-01-01T00:00:00Z"
  std::string pem;
};
Result<CertFacts> ReadCertFacts(const audit::AuditRecord& record);

// A record's thing attributes (stored as a JSON object) by name.
std::map<std::string, std::string> ThingAttributes(const std::string& stored);

std::string CsvHeader();
std::string CsvLine(const audit::AuditRecord& record);

// {"Item": {...}} in DynamoDB JSON: the allow-list item the JITR activation
// function looks up by serial (ops/aws/). Only issuances of profiles marked
// for JITR are exported so; the item says so ("jitr": true).
std::string AllowlistLine(const audit::AuditRecord& record, const CertFacts& cert);

// {"Item": {...}} keyed by deviceId: a device the pre-provisioning hook
// (ops/aws/preprovision_hook.py) lets RegisterThing provision. A claim
// profile's item ("claim": true) names the claim certificate that device
// must present.
std::string ProvisioningLine(const audit::AuditRecord& record, const CertFacts& cert, bool claim);

}  // namespace station::exports
