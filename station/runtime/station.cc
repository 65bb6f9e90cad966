#include "station/runtime/station.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace station::runtime {

Result<std::shared_ptr<hsm::TokenKey>> OpenTokenKey(const config::TokenConfig& token, const std::string& key_uri,
                                                    size_t sessions) {
  config::ApplyTokenEnvironment(token);
  ST_ASSIGN_OR_RETURN(auto token_uri, hsm::ParsePkcs11Uri(token.uri));
  ST_ASSIGN_OR_RETURN(auto parsed_key_uri, hsm::ParsePkcs11Uri(key_uri));
  ST_ASSIGN_OR_RETURN(auto module, hsm::Module::Load(token.module));
  ST_ASSIGN_OR_RETURN(auto pin, hsm::ReadPin(token.pin));
  hsm::TokenOptions options;
  options.max_sessions = sessions;
  ST_ASSIGN_OR_RETURN(auto opened, hsm::Token::Open(module, token_uri, std::move(pin), options));
  return hsm::TokenKey::Find(std::move(opened), parsed_key_uri);
}

Result<std::unique_ptr<Station>> Station::Open(const config::StationConfig& config) {
  if (::mkdir(config.state_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return MakeError(Code::kFailedPrecondition, "STATE_DIR_UNUSABLE",
                     "cannot create state directory " + config.state_dir + ": " + std::strerror(errno));
  std::unique_ptr<Station> s(new Station());
  ST_ASSIGN_OR_RETURN(auto key, OpenTokenKey(config.token, config.ca.key_uri, config.session_count()));
  ST_ASSIGN_OR_RETURN(s->ca_, issuance::CertificateAuthority::Load(std::move(key), config.ca.certificate));
  ST_ASSIGN_OR_RETURN(s->writer_, audit::AuditWriter::Open(config.audit_db_path(), config.audit.max_batch));
  s->reader_ = std::make_unique<audit::AuditReader>(config.audit_db_path());
  issuance::PipelineOptions options;
  options.workers = config.worker_count();
  options.queue_depth = config.issuance.queue_depth;
  options.max_csr_bytes = config.issuance.max_csr_bytes;
  options.profile.validity_days = config.issuance.validity_days;
  options.profile.backdate_seconds = config.issuance.backdate_seconds;
  ST_ASSIGN_OR_RETURN(s->pipeline_, issuance::Pipeline::Create(options, s->ca_, s->writer_.get(), s->reader_.get()));
  return s;
}

Station::~Station() { Shutdown(); }

void Station::Shutdown() {
  if (pipeline_) pipeline_->Shutdown();
  if (writer_) writer_->Stop();
}

}  // namespace station::runtime
