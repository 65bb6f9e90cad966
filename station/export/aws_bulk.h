// `stationctl audit export --format aws-bulk`: what AWS IoT's bulk
// registration takes as it is (`aws iot start-thing-registration-task`, see
// ../shared/AWS-IOT.md): a provisioning template, and an S3 object of
// newline-delimited JSON holding each device's values for its parameters.
//
//   DIR/registration.ndjson  one line per issuance: ThingName, ThingTypeName
//                            (when the things have types), SerialNumber,
//                            CertificatePem, CACertificatePem, and one
//                            parameter per thing attribute (AttributeParameter)
//   DIR/template.json        declares exactly those parameters; makes the
//                            thing, the certificate (ACTIVE, with its CA) and
//                            attaches the policy named by --policy-name
//   DIR/checkpoint           the signed checkpoint the range was checked against
//
// One task applies one template to every line, so every record of an export
// must describe its thing alike (a thing name; a type or none; the same
// attribute names), else the export is refused before anything is written.
#pragma once

#include <functional>
#include <string>

#include "station/audit/record.h"
#include "station/export/export.h"

namespace station::exports {

// Calls the visitor for each issuance of the export's range, in order.
using IssuanceVisitor = std::function<Status(const audit::AuditRecord&)>;
using ForEachIssuance = std::function<Status(const IssuanceVisitor&)>;

// The template parameter that carries thing attribute `name`: "Attr_" and
// the name with every character but a-z A-Z 0-9 as "_".
std::string AttributeParameter(const std::string& name);

// The longest template AWS IoT takes.
inline constexpr size_t kMaxTemplateChars = 10240;

Status WriteAwsBulk(store::Store& store, const ExportRequest& request, const std::string& note,
                    const ForEachIssuance& each, ExportResult& result);

// The commands that hand a written export to AWS IoT.
std::string AwsBulkCommands(const std::string& dir);

}  // namespace station::exports
