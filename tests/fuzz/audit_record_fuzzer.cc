// An audit record read back (from the log, or from an inclusion proof a
// stranger hands over): the canonical decoding, and the promise that makes
// the hash chain sound: one record, one encoding. Whatever decodes must
// encode back to exactly the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "station/audit/record.h"

using namespace station;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto record = audit::ParseCanonicalRecord(bytes);
  if (!record.ok()) return 0;
  if (audit::CanonicalRecord(*record) != bytes) std::abort();  // two encodings of one record
  (void)audit::RecordJson(*record);
  (void)audit::RecordLeafHash(*record);
  return 0;
}
