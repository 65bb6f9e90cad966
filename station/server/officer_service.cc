#include "station/server/officer_service.h"

#include "station/pki/cert_builder.h"
#include "station/server/caller.h"
#include "station/server/status.h"

namespace station::server {
namespace {

// The officer's identity, or the refusal for any other caller.
Result<std::string> OfficerFrom(const grpc::ServerContext& context) {
  ST_ASSIGN_OR_RETURN(issuance::Caller caller, CallerFromContext(context));
  if (caller.role != issuance::Role::kOfficer)
    return MakeError(Code::kPermissionDenied, "ROLE_NOT_ALLOWED",
                     "'" + caller.identity + "' is a line; the Officer service is for officers (OU=officer)");
  return caller.identity;
}

void FillCa(const officer::CaView& view, v1::CaInfo& out) {
  out.set_issuer(view.issuer);
  out.set_key_id(view.ca->key_id_hex());
  out.set_key_label(view.ca->token_key().label());
  out.set_subject(pki::NameText(X509_get_subject_name(view.ca->cert())));
  out.set_state(issuance::CaStateName(view.state));
  out.set_activate_at_unix_ms(view.activate_at_unix_ms);
  out.set_not_after(pki::TimeText(X509_get0_notAfter(view.ca->cert())));
  for (const Bytes& der : view.ca->chain_der()) out.add_chain_der(der.data(), der.size());
}

}  // namespace

grpc::Status OfficerService::ListCas(grpc::ServerContext* context, const v1::ListCasRequest* request,
                                     v1::ListCasResponse* response) {
  auto officer = OfficerFrom(*context);
  if (!officer.ok()) return ToGrpcStatus(officer.error());
  auto cas = desk_.ListCas(*officer, request->issuer());
  if (!cas.ok()) return ToGrpcStatus(cas.error());
  for (const officer::CaView& view : *cas) FillCa(view, *response->add_cas());
  return grpc::Status::OK;
}

grpc::Status OfficerService::StageCa(grpc::ServerContext* context, const v1::StageCaRequest* request,
                                     v1::StageCaResponse* response) {
  auto officer = OfficerFrom(*context);
  if (!officer.ok()) return ToGrpcStatus(officer.error());
  auto staged = desk_.StageCa(*officer, request->issuer(), request->key_label(), request->certificate_pem());
  if (!staged.ok()) return ToGrpcStatus(staged.error());
  FillCa(staged->ca, *response->mutable_ca());
  response->set_audit_seq(staged->audit_seq);
  return grpc::Status::OK;
}

grpc::Status OfficerService::Approve(grpc::ServerContext* context, const officer::Action& action,
                                     v1::ApprovalResponse* response) {
  auto officer = OfficerFrom(*context);
  if (!officer.ok()) return ToGrpcStatus(officer.error());
  auto status = desk_.Approve(*officer, action);
  if (!status.ok()) return ToGrpcStatus(status.error());
  response->set_action(status->action);
  for (const std::string& approver : status->approvers) response->add_approvers(approver);
  response->set_required(static_cast<uint32_t>(status->required));
  response->set_executed(status->executed);
  response->set_message(status->note);
  response->set_audit_seq(status->audit_seq);
  return grpc::Status::OK;
}

grpc::Status OfficerService::ActivateCa(grpc::ServerContext* context, const v1::ActivateCaRequest* request,
                                        v1::ApprovalResponse* response) {
  return Approve(context, officer::ActivateCa{{request->issuer(), request->ca()}, request->at_unix_ms()}, response);
}

grpc::Status OfficerService::RetireCa(grpc::ServerContext* context, const v1::RetireCaRequest* request,
                                      v1::ApprovalResponse* response) {
  return Approve(context, officer::RetireCa{{request->issuer(), request->ca()}}, response);
}

grpc::Status OfficerService::ApproveReissue(grpc::ServerContext* context, const v1::ApproveReissueRequest* request,
                                            v1::ApprovalResponse* response) {
  const int64_t ttl = request->ttl_seconds() == 0 ? 86400 : request->ttl_seconds();
  return Approve(context, officer::ReissueDevice{request->profile(), request->device_id(), ttl}, response);
}

}  // namespace station::server
