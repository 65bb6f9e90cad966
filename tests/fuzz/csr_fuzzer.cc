// A device's CSR as it arrives (DER): the strict reader, the self-signature
// and weak-key checks, then every shipped profile's key rules. An accepted
// CSR must hold its key in the one canonical encoding (OpenSSL's own for
// that key) and its subject must re-encode to DER that reads back the same:
// a second encoding of one key would be certified twice.
#include <cstddef>
#include <cstdint>
#include <algorithm>

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
  if (csr->spki_der != SpkiDer(csr->public_key.get())) __builtin_trap();
  if (std::search(der.begin(), der.end(), csr->spki_der.begin(), csr->spki_der.end()) == der.end()) __builtin_trap();
  Bytes subject = ToDer(csr->subject.get(), i2d_X509_NAME);
  const unsigned char* p = subject.data();
  X509NamePtr again(d2i_X509_NAME(nullptr, &p, static_cast<long>(subject.size())));
  if (!again || ToDer(again.get(), i2d_X509_NAME) != subject) __builtin_trap();
  for (const policy::Profile& profile : fuzz::ShippedPolicies()) (void)policy::CheckKeyType(profile, csr->key_type);
  return 0;
}
