#include "station/registry/registry_admin.h"

#include <openssl/rand.h>

#include <set>
#include <sstream>
#include <string_view>

#include "station/base/files.h"
#include "station/base/ossl.h"
#include "station/base/text.h"
#include "station/policy/profile.h"
#include "station/policy/reservation.h"

namespace station::registry {
namespace {

Error LotFileError(const std::string& path, size_t line, const std::string& why) {
  return MakeError(Code::kInvalidArgument, "LOT_FILE_INVALID", path + ":" + std::to_string(line) + ": " + why);
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Crockford's base32: no I, L, O, U, so a code read aloud or typed survives.
std::string Base32(const uint8_t* data, size_t len) {
  static const char* kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

}  // namespace

Result<std::vector<std::string>> ReadLotCsv(const std::string& path) {
  ST_ASSIGN_OR_RETURN(std::string text, base::ReadFile(path, kMaxLotFileBytes));
  std::vector<std::string> ids;
  std::set<std::string> seen;
  std::istringstream in(text);
  std::string raw;
  size_t line = 0;
  while (std::getline(in, raw)) {
    ++line;
    std::string row = Trim(raw);
    if (row.empty() || row[0] == '#') continue;
    std::string id = Trim(row.substr(0, row.find(',')));
    if (ids.empty() && seen.empty() && id == "device_id") continue;  // header
    if (id.empty() || id.size() > 64) return LotFileError(path, line, "a device id has 1 to 64 characters");
    if (!PrintableAscii(id)) return LotFileError(path, line, "device ids are printable ASCII");
    if (!seen.insert(id).second) return LotFileError(path, line, "device id '" + id + "' appears twice");
    if (ids.size() == kMaxLotDevices) return LotFileError(path, line, "a lot holds at most 1,000,000 devices");
    ids.push_back(id);
  }
  if (ids.empty()) return MakeError(Code::kInvalidArgument, "LOT_FILE_INVALID", path + ": no device ids");
  return ids;
}

Status RequireAuthorization(const policy::Profile& profile, policy::Authorization authorization) {
  if (profile.authorization == authorization) return {};
  return MakeError(Code::kFailedPrecondition, "PROFILE_MISMATCH",
                   "profile '" + profile.name + "' has authorization = \"" +
                       policy::AuthorizationName(profile.authorization) + "\", not \"" +
                       policy::AuthorizationName(authorization) + "\"; this would have no effect");
}

Status CheckLotName(const std::string& name) {
  // No '+': an issuance's authorization reads "lot:NAME+reissue:OFFICERS".
  if (name.empty() || name.size() > 64 || !PrintableAscii(name) || name.find('+') != std::string::npos)
    return MakeError(Code::kInvalidArgument, "LOT_INVALID", "a lot name has 1 to 64 printable characters other than '+'");
  return {};
}

Status CheckLotId(const std::string& id) {
  if (!policy::ValidDeviceId(id))
    return MakeError(Code::kInvalidArgument, "LOT_INVALID", "device ids have 1 to 64 printable characters");
  return {};
}

Result<std::vector<MintedCode>> NewCodes(size_t count, int64_t expires_unix_ms) {
  if (count == 0 || count > kMaxCodesPerMint)
    return MakeError(Code::kInvalidArgument, "USAGE", "--count must be between 1 and 100000");
  std::vector<MintedCode> codes;
  for (size_t i = 0; i < count; ++i) {
    uint8_t raw[16];
    if (RAND_priv_bytes(raw, sizeof raw) != 1)
      return MakeError(Code::kInternal, "RANDOM_FAILED", "the random generator failed: " + OpenSslErrors());
    codes.push_back({Base32(raw, sizeof raw), expires_unix_ms});
  }
  return codes;
}

std::vector<store::CodeRow> CodeRows(const std::vector<MintedCode>& codes) {
  std::vector<store::CodeRow> rows;
  rows.reserve(codes.size());
  for (const MintedCode& code : codes) rows.push_back({policy::CodeHash(code.code), code.expires_unix_ms});
  return rows;
}

}  // namespace station::registry
