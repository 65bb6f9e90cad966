// Device keys and CSRs for tests, including broken ones.
#pragma once

#include <string>

#include "hsm/ossl.h"

namespace station::testing {

struct TestCsr {
  EvpPkeyPtr key;
  Bytes der;
};

// A valid CSR for a fresh key ("ec-p256", "ec-p384", "ec-p521", "rsa-1024", "rsa-2048", ...)
// with subject CN=cn.
TestCsr MakeCsr(const std::string& key_type, const std::string& cn = "test-device");

// The same CSR with one byte of its signature flipped.
Bytes TamperSignature(const Bytes& der);

}  // namespace station::testing
