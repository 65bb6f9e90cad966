// What every officer call does first and last: check that the caller is one
// of the configured officers, and write the call's audit record (with its
// effect, in one transaction) before answering.
#pragma once

#include <string>

#include "station/audit/writer.h"
#include "station/config/config.h"

namespace station::officer {

// PERMISSION_DENIED OFFICER_NOT_MEMBER for an identity not in
// [officers] members; FAILED_PRECONDITION OFFICERS_NOT_CONFIGURED when the
// config names none.
Status CheckOfficer(const config::OfficersConfig& officers, const std::string& identity);

// Appends the officer record `draft` (a fresh action id is filled in) with
// `effect` run in its transaction, and waits until both are durable.
Result<audit::AuditRecord> RecordAction(audit::AuditWriter& writer, audit::AuditRecord draft,
                                        audit::AuditWriter::Effect effect);

// ["a","b"] for the records' detail.
std::string JsonList(const std::vector<std::string>& items);

}  // namespace station::officer
