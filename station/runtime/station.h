// Everything a running station is made of, opened from its config: the token
// and CA key, the CA certificate, the audit log, and the issuance pipeline.
// The server wraps this in gRPC; tests and tools use it directly.
#pragma once

#include <memory>

#include "hsm/key.h"
#include "station/audit/store.h"
#include "station/audit/writer.h"
#include "station/config/config.h"
#include "station/issuance/pipeline.h"

namespace station::runtime {

// Loads the module named in the config (after setting its environment),
// reads the PIN, logs in, and finds the key named by `key_uri`.
Result<std::shared_ptr<hsm::TokenKey>> OpenTokenKey(const config::TokenConfig& token, const std::string& key_uri,
                                                    size_t sessions);

class Station {
 public:
  static Result<std::unique_ptr<Station>> Open(const config::StationConfig& config);
  ~Station();  // Shutdown()s

  issuance::Pipeline& pipeline() noexcept { return *pipeline_; }
  const issuance::CertificateAuthority& ca() const noexcept { return *ca_; }
  audit::AuditReader& audit_reader() noexcept { return *reader_; }
  uint64_t audit_last_seq() const { return writer_->last_seq(); }

  // Finishes queued requests, then makes the audit log durable and closes it.
  void Shutdown();

 private:
  Station() = default;
  std::shared_ptr<issuance::CertificateAuthority> ca_;
  std::unique_ptr<audit::AuditWriter> writer_;
  std::unique_ptr<audit::AuditReader> reader_;
  std::unique_ptr<issuance::Pipeline> pipeline_;
};

}  // namespace station::runtime
