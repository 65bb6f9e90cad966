#include "station/server/caller.h"

#include "station/pki/pem.h"

namespace station::server {
namespace {

std::string NameEntry(X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

Error Unauthenticated(const std::string& why) {
  return MakeError(Code::kPermissionDenied, "CALLER_UNAUTHENTICATED", why);
}

}  // namespace

Result<issuance::Caller> CallerFromCertPem(const std::string& pem) {
  auto certs = pki::ParseCertsPem(pem, "client certificate");
  if (!certs.ok()) return Unauthenticated("the client certificate cannot be read");
  X509_NAME* subject = X509_get_subject_name(certs->front().get());
  issuance::Caller caller;
  caller.identity = NameEntry(subject, NID_commonName);
  if (caller.identity.empty()) return Unauthenticated("the client certificate has no CN");
  std::string role = NameEntry(subject, NID_organizationalUnitName);
  if (role == "line") {
    caller.role = issuance::Role::kLine;
  } else if (role == "officer") {
    caller.role = issuance::Role::kOfficer;
  } else {
    return MakeError(Code::kPermissionDenied, "ROLE_UNKNOWN",
                     "client certificate '" + caller.identity + "' has OU '" + role +
                         "'; a station client certificate has OU=line or OU=officer");
  }
  return caller;
}

Result<issuance::Caller> CallerFromContext(const grpc::ServerContext& context) {
  auto auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return Unauthenticated("no verified client certificate");
  auto pems = auth->FindPropertyValues("x509_pem_cert");
  if (pems.empty()) return Unauthenticated("no verified client certificate");
  return CallerFromCertPem(std::string(pems.front().data(), pems.front().size()));
}

}  // namespace station::server
