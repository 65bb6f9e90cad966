// The Officer gRPC service: an adapter between station.v1 messages and the
// officer desks (officer/desk.h, officer/registry_desk.h). No business rule lives here beyond the
// caller's role.
#pragma once

#include "station/officer/desk.h"
#include "station/officer/registry_desk.h"
#include "station/v1/station.grpc.pb.h"

namespace station::server {

class OfficerService final : public v1::Officer::Service {
 public:
  OfficerService(officer::OfficerDesk& desk, officer::RegistryDesk& registry) : desk_(desk), registry_(registry) {}

  grpc::Status ListCas(grpc::ServerContext* context, const v1::ListCasRequest* request,
                       v1::ListCasResponse* response) override;
  grpc::Status StageCa(grpc::ServerContext* context, const v1::StageCaRequest* request,
                       v1::StageCaResponse* response) override;
  grpc::Status ActivateCa(grpc::ServerContext* context, const v1::ActivateCaRequest* request,
                          v1::ApprovalResponse* response) override;
  grpc::Status RetireCa(grpc::ServerContext* context, const v1::RetireCaRequest* request,
                        v1::ApprovalResponse* response) override;
  grpc::Status ApproveReissue(grpc::ServerContext* context, const v1::ApproveReissueRequest* request,
                              v1::ApprovalResponse* response) override;
  grpc::Status ListProfiles(grpc::ServerContext* context, const v1::ListProfilesRequest* request,
                            v1::ListProfilesResponse* response) override;
  grpc::Status SetProfileLines(grpc::ServerContext* context, const v1::SetProfileLinesRequest* request,
                               v1::ApprovalResponse* response) override;
  grpc::Status ImportLot(grpc::ServerContext* context, grpc::ServerReader<v1::ImportLotRequest>* reader,
                         v1::ImportLotResponse* response) override;
  grpc::Status CloseLot(grpc::ServerContext* context, const v1::CloseLotRequest* request,
                        v1::RegistryChange* response) override;
  grpc::Status ListLots(grpc::ServerContext* context, const v1::ListLotsRequest* request,
                        v1::ListLotsResponse* response) override;
  grpc::Status MintCodes(grpc::ServerContext* context, const v1::MintCodesRequest* request,
                         v1::MintCodesResponse* response) override;

 private:
  grpc::Status Approve(grpc::ServerContext* context, const officer::Action& action, v1::ApprovalResponse* response);
  officer::OfficerDesk& desk_;
  officer::RegistryDesk& registry_;
};

}  // namespace station::server
