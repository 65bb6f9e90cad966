// A device's CSR as it arrives (DER): the strict reader, the self-signature
// and weak-key checks, then every shipped profile's key rules.
#include <cstddef>
#include <cstdint>

#include "station/issuance/csr.h"
#include "station/pki/cert_builder.h"
#include "station/policy/request_rules.h"
#include "tests/fuzz/shipped_policies.h"

using namespace station;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes der(data, data + size);
  auto csr = issuance::CheckCsr(der, 16 * 1024);
  if (!csr.ok()) return 0;
  (void)pki::NameText(csr->subject.get());
  for (const policy::Profile& profile : fuzz::ShippedPolicies()) (void)policy::CheckKeyType(profile, csr->key_type);
  return 0;
}
