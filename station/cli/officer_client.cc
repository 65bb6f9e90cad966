#include "station/cli/officer_client.h"

#include <cstdio>

#include "station/cli/commands.h"
#include "station/client/channel.h"
#include "station/config/config.h"

namespace station::cli {
namespace {

constexpr int kDeadlineSeconds = 60;

}  // namespace

bool IsOfficerConfig(const std::string& path) { return config::LoadLineConfig(path).ok(); }

Result<std::unique_ptr<v1::Officer::Stub>> ConnectOfficer(const base::Args& args) {
  ST_ASSIGN_OR_RETURN(std::string path, args.Require("config"));
  ST_ASSIGN_OR_RETURN(config::LineConfig config, config::LoadLineConfig(path));
  if (auto target = args.Get("target")) config.target = *target;
  ST_ASSIGN_OR_RETURN(auto channel, client::MakeChannel(config));
  return v1::Officer::NewStub(channel);
}

std::unique_ptr<grpc::ClientContext> OfficerContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(kDeadlineSeconds));
  return context;
}

Error FromStatus(const grpc::Status& status) {
  std::string text = status.error_message();
  std::string reason = "RPC_FAILED";
  size_t colon = text.find(": ");
  if (colon != std::string::npos && colon > 0 && text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") == colon) {
    reason = text.substr(0, colon);
    text = text.substr(colon + 2);
  }
  return MakeError(static_cast<Code>(status.error_code()), reason, text);
}

int PrintApproval(const grpc::Status& status, const v1::ApprovalResponse& reply) {
  if (!status.ok()) return Fail(FromStatus(status));
  std::string approvers;
  for (const std::string& a : reply.approvers()) approvers += (approvers.empty() ? "" : ", ") + a;
  std::printf("%s: %d of %u approvals (%s)%s\n%s\naudit record %llu\n", reply.action().c_str(), reply.approvers_size(),
              reply.required(), approvers.c_str(), reply.executed() ? ", done" : "", reply.message().c_str(),
              static_cast<unsigned long long>(reply.audit_seq()));
  return 0;
}

}  // namespace station::cli
