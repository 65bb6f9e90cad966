// Reading the audit log: retry lookups for the pipeline (from many threads),
// and full scans for `stationctl audit verify` and `audit export`.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "station/audit/claims.h"
#include "station/audit/sqlite.h"

namespace station::audit {

class AuditReader {
 public:
  // Opens read connections lazily; the database must exist (the writer makes it).
  explicit AuditReader(std::string path) : pool_(std::move(path)) {}
  AuditReader(const AuditReader&) = delete;
  AuditReader& operator=(const AuditReader&) = delete;

  // The record a caller's request_id produced, if any. Thread-safe.
  Result<std::optional<AuditRecord>> FindByRequest(const std::string& caller, const std::string& request_id);

  // The claims check of claims.h, without using anything up: the pipeline's
  // pre-check before signing. Thread-safe.
  Result<std::string> CheckClaims(const Claims& claims);

  // Calls `fn` for each record after `after_seq`, in sequence order, until it
  // returns false.
  Status ForEach(const std::function<bool(const AuditRecord&)>& fn, uint64_t after_seq = 0);

 private:
  ReadPool pool_;
};

}  // namespace station::audit
