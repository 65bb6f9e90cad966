// What officers bring to the device registry, read and checked: production
// lots from CSV files, fresh registration codes. The store keeps them
// (store/store.h), each change in the batch of the officer record that makes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/policy/profile.h"
#include "station/store/rows.h"

namespace station::registry {

// Bounds on officer input.
constexpr size_t kMaxLotDevices = 1000000;
constexpr size_t kMaxLotFileBytes = 64u << 20;
constexpr size_t kMaxCodesPerMint = 100000;

// Device ids from a CSV file: the first column of each line; a first line
// "device_id,..." is a header; blank lines and lines starting with '#' are
// skipped. INVALID_ARGUMENT LOT_FILE_INVALID names the line of a bad id
// (1 to 64 printable ASCII characters) or a repeated one.
Result<std::vector<std::string>> ReadLotCsv(const std::string& path);

struct Lot {
  std::string name;
  std::string profile;
  std::vector<std::string> device_ids;
  std::string source;       // the file it came from
  std::string imported_by;  // who ran the import
};

// FAILED_PRECONDITION PROFILE_MISMATCH unless `profile` uses `authorization`
// (a lot or codes for it would have no effect).
Status RequireAuthorization(const policy::Profile& profile, policy::Authorization authorization);

// INVALID_ARGUMENT LOT_INVALID for a lot name that is not 1 to 64 printable
// characters other than '+', or a device id that is not 1 to 64 printable.
Status CheckLotName(const std::string& name);
Status CheckLotId(const std::string& id);

using store::LotSummary;

struct MintedCode {
  std::string code;  // shown once, never stored
  int64_t expires_unix_ms = 0;
};

// Fresh codes (128 bits each, base32; USAGE unless 1 <= count <=
// kMaxCodesPerMint).
Result<std::vector<MintedCode>> NewCodes(size_t count, int64_t expires_unix_ms);
// What the registry keeps of them: only the SHA-256 of each code.
std::vector<store::CodeRow> CodeRows(const std::vector<MintedCode>& codes);

}  // namespace station::registry
