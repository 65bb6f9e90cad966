// The baseline a user would otherwise pick: one `openssl x509 -req` process
// per CSR, signing with the CA key in the same token through the pkcs11
// engine (libengine-pkcs11-openssl), the way a provisioning script does it.
// The PIN reaches the engine through a 0600 OpenSSL config file, never the
// command line.
#pragma once

#include <string>

#include "bench/station_bench/station_under_test.h"

namespace station::bench {

struct NaiveResult {
  size_t certificates = 0;
  double seconds = 0;
  double per_second = 0;
};

// Signs `count` CSRs (made beforehand, not timed) one process after another.
Result<NaiveResult> MeasureNaive(const DevStation& station, size_t count);

}  // namespace station::bench
