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

grpc::Status OfficerService::ListProfiles(grpc::ServerContext* context, const v1::ListProfilesRequest*,
                                          v1::ListProfilesResponse* response) {
  auto officer = OfficerFrom(*context);
  if (!officer.ok()) return ToGrpcStatus(officer.error());
  auto profiles = desk_.ListProfiles(*officer);
  if (!profiles.ok()) return ToGrpcStatus(profiles.error());
  for (const issuance::CertificateProfile* profile : *profiles) {
    const policy::Profile& p = profile->profile();
    v1::ProfileInfo& out = *response->add_profiles();
    out.set_name(p.name);
    out.set_description(p.description);
    out.set_authorization(policy::AuthorizationName(p.authorization));
    out.set_one_per_device(p.one_per_device);
    for (const std::string& line : *profile->lines()) out.add_lines(line);
    for (const std::string& line : p.lines) out.add_file_lines(line);
  }
  return grpc::Status::OK;
}

grpc::Status OfficerService::SetProfileLines(grpc::ServerContext* context, const v1::SetProfileLinesRequest* request,
                                             v1::ApprovalResponse* response) {
  if (static_cast<size_t>(request->lines_size()) > policy::kMaxLines)
    return ToGrpcStatus(MakeError(Code::kInvalidArgument, "LINES_INVALID", "a profile names at most 1000 lines"));
  officer::SetProfileLines action{request->profile(), {request->lines().begin(), request->lines().end()}};
  return Approve(context, action, response);
}

grpc::Status OfficerService::ImportLot(grpc::ServerContext* context, grpc::ServerReader<v1::ImportLotRequest>* reader,
                                       v1::ImportLotResponse* response) {
  auto officer = OfficerFrom(*context);
  if (!officer.ok()) return ToGrpcStatus(officer.error());
  // Who may import, and into what, is checked on the first chunk, before a
  // single id is kept; the ids then go to the store chunk by chunk.
  v1::ImportLotRequest chunk;
  if (!reader->Read(&chunk))
    return ToGrpcStatus(MakeError(Code::kInvalidArgument, "LOT_INVALID", "the lot arrived without a message"));
  registry::Lot lot;
  lot.name = chunk.lot();
  lot.profile = chunk.profile();
  lot.source = chunk.source();
  auto import = registry_.BeginLotImport(*officer, std::move(lot));
  if (!import.ok()) return ToGrpcStatus(import.error());
  do {
    std::vector<std::string> ids(std::make_move_iterator(chunk.mutable_device_ids()->begin()),
                                 std::make_move_iterator(chunk.mutable_device_ids()->end()));
    if (Status added = (*import)->Add(ids); !added.ok()) return ToGrpcStatus(added.error());
  } while (reader->Read(&chunk));
  auto done = (*import)->Finish();
  if (!done.ok()) return ToGrpcStatus(done.error());
  response->set_devices(done->devices);
  response->set_audit_seq(done->audit_seq);
  return grpc::Status::OK;
}

grpc::Status OfficerService::CloseLot(grpc::ServerContext* context, const v1::CloseLotRequest* request,
                                      v1::RegistryChange* response) {
  auto officer = OfficerFrom(*context);
  if (!officer.ok()) return ToGrpcStatus(officer.error());
  auto done = registry_.CloseLot(*officer, request->lot());
  if (!done.ok()) return ToGrpcStatus(done.error());
  response->set_audit_seq(done->audit_seq);
  return grpc::Status::OK;
}

grpc::Status OfficerService::ListLots(grpc::ServerContext* context, const v1::ListLotsRequest*,
                                      v1::ListLotsResponse* response) {
  auto officer = OfficerFrom(*context);
  if (!officer.ok()) return ToGrpcStatus(officer.error());
  auto lots = registry_.ListLots(*officer);
  if (!lots.ok()) return ToGrpcStatus(lots.error());
  for (const registry::LotSummary& lot : *lots) {
    v1::LotInfo& out = *response->add_lots();
    out.set_lot(lot.name);
    out.set_profile(lot.profile);
    out.set_state(lot.state);
    out.set_devices(static_cast<uint64_t>(lot.devices));
    out.set_issued(static_cast<uint64_t>(lot.issued));
  }
  return grpc::Status::OK;
}

grpc::Status OfficerService::MintCodes(grpc::ServerContext* context, const v1::MintCodesRequest* request,
                                       v1::MintCodesResponse* response) {
  auto officer = OfficerFrom(*context);
  if (!officer.ok()) return ToGrpcStatus(officer.error());
  const int64_t ttl = request->ttl_seconds() == 0 ? 300 : request->ttl_seconds();
  auto minted = registry_.MintCodes(*officer, request->profile(), request->count(), ttl);
  if (!minted.ok()) return ToGrpcStatus(minted.error());
  for (const registry::MintedCode& code : minted->codes) response->add_codes(code.code);
  response->set_expires_unix_ms(minted->codes.front().expires_unix_ms);
  response->set_audit_seq(minted->audit_seq);
  return grpc::Status::OK;
}

}  // namespace station::server
