// What `stationctl audit check-proof` and `audit verify` read from outside:
// an inclusion proof (text with a record, an audit path and a signed
// checkpoint) and a signed checkpoint note. The seeds were made by a dev
// station (tests/fuzz/make_seeds.sh) whose audit public key and origin are
// tests/fuzz/audit-key.pem and audit-origin.txt, so mutations of a valid
// proof get past the signature to the path and the record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "station/audit/checkpoint.h"
#include "station/audit/proof.h"
#include "station/base/files.h"

using namespace station;

namespace {

const audit::NoteKey& Key() {
  static const audit::NoteKey key = [] {
    auto origin = base::ReadFile(STATION_FUZZ_DIR "/audit-origin.txt");
    if (!origin.ok()) std::abort();
    auto k = audit::NoteKey::FromPemFile(origin->substr(0, origin->find('\n')), STATION_FUZZ_DIR "/audit-key.pem");
    if (!k.ok()) std::abort();
    return *k;
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)audit::CheckInclusionProof(text, Key());
  (void)audit::OpenCheckpoint(text, Key());
  return 0;
}
