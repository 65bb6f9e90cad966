#include "station/server/metrics.h"

#include <openssl/x509.h>

#include "station/base/metrics.h"
#include "station/base/version.h"
#include "station/pki/cert_builder.h"

namespace station::server {

std::string MetricsText(runtime::Station& station, const StreamSlots& streams, int64_t crl_next_update_unix) {
  issuance::Pipeline& pipeline = station.pipeline();
  const issuance::PipelineMetrics& m = pipeline.metrics();
  // Every profile and every code-authorized profile shows, at 0 until counted.
  std::map<std::string, uint64_t> issued = m.issued.Read();
  std::map<std::string, double> unused;
  const std::map<std::string, uint64_t> codes = station.unused_codes();
  for (const issuance::CertificateProfile* p : pipeline.profiles()) {
    issued.emplace(p->profile().name, 0);
    if (p->profile().authorization == policy::Authorization::kRegistrationCode) {
      auto it = codes.find(p->profile().name);
      unused[p->profile().name] = it == codes.end() ? 0 : static_cast<double>(it->second);
    }
  }
  std::map<std::string, double> not_after, open;
  for (issuance::Issuer* issuer : pipeline.issuers())
    for (const auto& status : issuer->List())
      if (status.state != issuance::CaState::kRetired)
        not_after[status.ca->token_key().label()] =
            static_cast<double>(pki::TimeUnix(X509_get0_notAfter(status.ca->cert())));
  for (const auto& [line, count] : streams.PerLine()) open[line] = static_cast<double>(count);
  const audit::AuditWriter& writer = station.audit_writer();

  metrics::Text t;
  t.Gauges("station_build_info", "The station's version (always 1).", "version", {{base::Version(), 1}});
  t.Counters("station_certificates_issued_total", "Certificates issued (retries answered from the log not counted).",
             "profile", issued);
  t.Counters("station_requests_refused_total", "Requests answered with an error, by reason.", "reason",
             m.refused.Read());
  t.Histogram("station_request_duration_seconds", "From a request's arrival to its answer.", m.request.Read());
  t.Histogram("station_sign_duration_seconds", "The signature call into the token.", m.sign.Read());
  t.Histogram("station_audit_commit_duration_seconds", "One group commit of the audit log, retries included.",
              writer.commit_seconds().Read());
  t.Gauge("station_queue_depth", "Requests waiting for a worker.", static_cast<double>(pipeline.queue_depth()));
  t.Gauges("station_streams_open", "Open SignStreams and unary calls in work, by line.", "line", open);
  t.Gauge("station_issuance_halted", "1 while issuance is halted (a signature failed its check) until a restart.",
          pipeline.halted() ? 1 : 0);
  t.Gauge("station_token_up", "1 while the token answers the watcher's probe (once a second).",
          station.token_up() ? 1 : 0);
  t.Gauge("station_audit_log_size", "Records in this station's audit log.",
          static_cast<double>(station.audit_last_seq()));
  t.Gauge("station_audit_last_checkpoint_timestamp_seconds",
          "When this station last signed a checkpoint (0: not since it started).",
          static_cast<double>(writer.checkpoint_unix_ms()) / 1000.0);
  t.Gauges("station_ca_not_after_timestamp_seconds", "The notAfter of each CA in use, by its key's label.", "ca",
           not_after);
  if (crl_next_update_unix != 0)
    t.Gauge("station_crl_next_update_timestamp_seconds", "The earliest nextUpdate of the [tls] crl lists.",
            static_cast<double>(crl_next_update_unix));
  t.Gauges("station_registration_codes_unused", "Registration codes neither used nor expired (read every 30 s).",
           "profile", unused);
  return t.str();
}

}  // namespace station::server
