#include "station/store/state_digest.h"

#include <map>

namespace station::store {

const StateSpec& StateSpecOf(StateTable table) {
  static const std::map<StateTable, StateSpec> specs = {
      {StateTable::kCaSet,
       {"ca_state", "SELECT DISTINCT issuer FROM ca_state",
        {"SELECT key_id, key_uri, certificate_pem, state, activate_at_unix_ms, changed_seq FROM ca_state "
         "WHERE issuer = $1 ORDER BY key_id"}}},
      {StateTable::kProfileLines,
       {"profile_lines", "SELECT profile FROM profile_lines",
        {"SELECT lines, changed_seq FROM profile_lines WHERE profile = $1"}}},
      {StateTable::kApproval,
       {"approval", "SELECT DISTINCT seq FROM approval",
        {"SELECT action_key, officer, created_unix_ms, expires_unix_ms FROM approval WHERE seq = $1 "
         "ORDER BY action_key, officer, created_unix_ms"},
        "SELECT DISTINCT seq FROM approval WHERE station_id = $1",
        {"SELECT action_key, officer, created_unix_ms, expires_unix_ms FROM approval WHERE seq = $1 "
         "AND station_id = $2 ORDER BY action_key, officer, created_unix_ms"}}},
      {StateTable::kReissueApproval,
       {"reissue_approval", "SELECT DISTINCT seq FROM reissue_approval",
        {"SELECT profile, device_id, approved_by, created_unix_ms, expires_unix_ms FROM reissue_approval "
         "WHERE seq = $1 ORDER BY profile, device_id, created_unix_ms"},
        "SELECT DISTINCT seq FROM reissue_approval WHERE station_id = $1",
        {"SELECT profile, device_id, approved_by, created_unix_ms, expires_unix_ms FROM reissue_approval "
         "WHERE seq = $1 AND station_id = $2 ORDER BY profile, device_id, created_unix_ms"}}},
      {StateTable::kCodeBatch,
       {"registration_code", "SELECT DISTINCT batch FROM registration_code",
        {"SELECT code_sha256, profile, expires_unix_ms FROM registration_code WHERE batch = $1 ORDER BY code_sha256"}}},
      {StateTable::kLot,
       {"lot", "SELECT name FROM lot UNION SELECT lot FROM lot_device",
        {"SELECT profile, state, devices, source, imported_by, imported_unix_ms FROM lot WHERE name = $1",
         "SELECT profile, device_id FROM lot_device WHERE lot = $1 ORDER BY profile, device_id"}}},
  };
  return specs.at(table);
}

const UseCheck kUseChecks[kUseCheckCount] = {
    {"registration_code", "a code is marked used by record %, which did not use it"},
    {"registration_code", "record % used a registration code that the registry no longer marks used (a code works once)"},
    {"reissue_approval", "a reissue approval is marked used by record %, which did not use it"},
    {"reissue_approval", "record % used a reissue approval that is no longer marked used (an approval works once)"},
    {"approval", "an approval is marked used by record %, which did not carry out its action"},
    {"approval",
     "record % carried out an action with fewer used approvals than it required (approvals made unused again)"},
};

StateProblem UseProblem(int check, const std::string& group, const std::string& seq) {
  std::string what = kUseChecks[check].what;
  what.replace(what.find('%'), 1, seq);
  return StateProblem{kUseChecks[check].table, group, what};
}

const char* StateTableName(StateTable table) noexcept { return StateSpecOf(table).name; }

bool GroupedByRecord(StateTable table) noexcept { return StateSpecOf(table).station_groups_sql != nullptr; }

Result<GroupDigester> GroupDigester::Start(const StateSpec& spec, const std::string& group) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return MakeError(Code::kInternal, "DIGEST_FAILED", "SHA-256 is unavailable: " + OpenSslErrors());
  GroupDigester digester(std::move(ctx));
  digester.Field('t', spec.name, std::char_traits<char>::length(spec.name));
  digester.Field('g', group.data(), group.size());
  return digester;
}

void GroupDigester::Field(uint8_t type, const void* data, size_t size) {
  uint8_t header[9] = {type};
  for (int i = 0; i < 8; ++i) header[1 + i] = static_cast<uint8_t>(static_cast<uint64_t>(size) >> (56 - 8 * i));
  EVP_DigestUpdate(ctx_.get(), header, sizeof header);
  if (size > 0) EVP_DigestUpdate(ctx_.get(), data, size);
}

void GroupDigester::BeginRow() { Field('r', nullptr, 0); }
void GroupDigester::Null() { Field('n', nullptr, 0); }
void GroupDigester::Value(const void* data, size_t size) { Field('v', data, size); }
void GroupDigester::EndQuery() { Field('e', nullptr, 0); }

Result<std::string> GroupDigester::Finish() {
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1)
    return MakeError(Code::kInternal, "DIGEST_FAILED", "SHA-256 failed: " + OpenSslErrors());
  return Hex(digest, size);
}

}  // namespace station::store
