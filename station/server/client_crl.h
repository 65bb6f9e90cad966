// The revocation list for client certificates ([tls] crl): checked at start,
// then laid out the way OpenSSL's hashed-directory lookup (and so gRPC's
// set_crl_directory) reads it.
#pragma once

#include <cstdint>
#include <string>

#include "station/base/error.h"

namespace station::server {

// Reads the PEM CRLs in `crl_path`; each must be signed by one of the
// certificates in `client_ca_pem` and not past its nextUpdate (OpenSSL would
// refuse every client otherwise). Writes them into `dir` (emptied first) as
// <issuer hash>.r<N> and returns a line for the log (a warning when a list
// is due for its next update within two days). An unusable list stops
// the server: gRPC ignores a CRL it cannot find, and a revoked line must not
// get in because a file was wrong.
struct CrlSummary {
  std::string text;
  bool due_soon = false;  // log it as a warning
  int64_t next_update_unix = 0;  // the earliest nextUpdate of the lists; 0: none says
};
Result<CrlSummary> PrepareCrlDirectory(const std::string& crl_path, const std::string& client_ca_pem,
                                        const std::string& dir);

}  // namespace station::server
