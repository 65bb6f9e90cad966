// Does a CA certificate chain up to a trust anchor the station was told to
// trust? Checked when an officer installs an issuing CA (`ca import-cert`)
// and at every start, so a certificate swapped on disk is caught before it
// is handed to a device.
#pragma once

#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/pki/x509.h"

namespace station::pki {

// Verifies chain[0] (an issuing CA) through chain[1..] (intermediates, in any
// order) to one of `roots` (self-signed trust anchors) at the current time:
// signatures, validity, basicConstraints CA:TRUE and path length on every
// certificate, RFC 5280 strict. A self-signed chain[0] that is itself one of
// the roots passes. FAILED_PRECONDITION CA_CHAIN_INVALID naming OpenSSL's
// verdict and the certificate it stopped at.
Status CheckChainToRoot(const std::vector<X509Ptr>& chain, const std::vector<X509Ptr>& roots);

}  // namespace station::pki
