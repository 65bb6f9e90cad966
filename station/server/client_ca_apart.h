// The TLS client CA and the issuing CAs stay apart: a device receives its
// issuing CA's chain with its certificate and presents both, so a client_ca
// that is an issuing CA, an ancestor of one, or issued by one would let a
// device certificate authenticate as a station client (a line or an officer).
#pragma once

#include <string>
#include <vector>

#include "hsm/error.h"
#include "station/issuance/issuer.h"

namespace station::server {

// FAILED_PRECONDITION TLS_CLIENT_CA_ISSUES_DEVICES naming both certificates
// when any CA of `issuers` (staged, active, previous or retired, with its
// intermediates) is a certificate of `client_ca_pem`, is issued by one, or
// issued one.
Status CheckClientCaApart(const std::string& client_ca_pem, const std::vector<issuance::Issuer*>& issuers);

}  // namespace station::server
