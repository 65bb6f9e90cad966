// The TLS client CA and the issuing CAs stay apart: a device receives its
// issuing CA's chain with its certificate and presents both, so a client_ca
// that is an issuing CA, an ancestor of one, or issued by one would let a
// device certificate authenticate as a station client (a line or an officer).
// Checked at start for every CA of every issuer, and when officers stage one.
#pragma once

#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/issuance/certificate_authority.h"

namespace station::officer {

// FAILED_PRECONDITION TLS_CLIENT_CA_ISSUES_DEVICES naming both certificates
// when any certificate of `cas` (each with its intermediates) is a
// certificate of `client_ca_pem`, is issued by one, or issued one. An empty
// `client_ca_pem` (a config without [tls], as in offline tools) passes.
Status CheckClientCaApart(const std::string& client_ca_pem,
                          const std::vector<const issuance::CertificateAuthority*>& cas);

}  // namespace station::officer
