#include "station/officer/client_ca_apart.h"

#include <openssl/x509v3.h>

#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"

namespace station::officer {

Status CheckClientCaApart(const std::string& client_ca_pem,
                          const std::vector<const issuance::CertificateAuthority*>& cas) {
  if (client_ca_pem.empty()) return {};
  ST_ASSIGN_OR_RETURN(auto anchors, pki::ParseCertsPem(client_ca_pem, "[tls] client_ca"));
  for (const issuance::CertificateAuthority* authority : cas) {
    for (const Bytes& der : authority->chain_der()) {
      ST_ASSIGN_OR_RETURN(X509Ptr ca, pki::ParseCertDer(der));
      for (const X509Ptr& anchor : anchors) {
        // X509_check_issued: names and key identifiers match (RFC 5280 6.1).
        const bool same = X509_cmp(anchor.get(), ca.get()) == 0;
        if (!same && X509_check_issued(anchor.get(), ca.get()) != X509_V_OK &&
            X509_check_issued(ca.get(), anchor.get()) != X509_V_OK)
          continue;
        return MakeError(Code::kFailedPrecondition, "TLS_CLIENT_CA_ISSUES_DEVICES",
                         "[tls] client_ca '" + pki::NameText(X509_get_subject_name(anchor.get())) + "' " +
                             (same ? "is" : "is in one chain with") + " the issuing CA '" +
                             pki::NameText(X509_get_subject_name(ca.get())) +
                             "': device certificates would be accepted as station clients. Give the station's "
                             "clients a CA of their own");
      }
    }
  }
  return {};
}

}  // namespace station::officer
