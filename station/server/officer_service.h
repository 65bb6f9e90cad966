// The Officer gRPC service: an adapter between station.v1 messages and the
// officer desk (officer/desk.h). No business rule lives here beyond the
// caller's role.
#pragma once

#include "station/officer/desk.h"
#include "station/v1/station.grpc.pb.h"

namespace station::server {

class OfficerService final : public v1::Officer::Service {
 public:
  explicit OfficerService(officer::OfficerDesk& desk) : desk_(desk) {}

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

 private:
  grpc::Status Approve(grpc::ServerContext* context, const officer::Action& action, v1::ApprovalResponse* response);
  officer::OfficerDesk& desk_;
};

}  // namespace station::server
