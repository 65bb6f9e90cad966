#include "station/store/pg_registry.h"

#include "station/store/state_digest.h"

namespace station::store::pg {

Status ReplaceCaSet(PGconn* c, const std::string& station, const std::string& issuer, const std::vector<CaRow>& rows,
                    uint64_t seq) {
  ST_RETURN_IF_ERROR(Execute(c, "DELETE FROM ca_state WHERE issuer = $1", Params(issuer), "updating the CA set"));
  for (const CaRow& row : rows)
    ST_RETURN_IF_ERROR(Execute(c,
                               "INSERT INTO ca_state (issuer, key_id, key_uri, certificate_pem, state, "
                               "activate_at_unix_ms, changed_station, changed_seq) "
                               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                               Params(issuer, row.key_id, row.key_uri, row.certificate_pem, row.state,
                                      row.activate_at_unix_ms, station, seq),
                               "updating the CA set"));
  return {};
}

Status SetProfileLines(PGconn* c, const std::string& station, const std::string& profile, const std::string& lines,
                       uint64_t seq) {
  return Execute(c,
                 "INSERT INTO profile_lines (profile, lines, changed_station, changed_seq) VALUES ($1, $2, $3, $4) "
                 "ON CONFLICT (profile) DO UPDATE SET lines = $2, changed_station = $3, changed_seq = $4",
                 Params(profile, lines, station, seq), "changing a profile's lines");
}

Result<std::vector<std::string>> AddApproval(PGconn* c, const std::string& station, const std::string& action_key,
                                             const std::string& officer, int64_t now_unix_ms, int64_t ttl_s,
                                             uint64_t seq) {
  // Officers approving one action at two stations at once: one waits for the other.
  ST_RETURN_IF_ERROR(Execute(c, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                             Params("approval:" + action_key), "waiting for another station's approval"));
  ST_RETURN_IF_ERROR(Execute(c,
                             "INSERT INTO approval (action_key, officer, created_unix_ms, expires_unix_ms, station_id, "
                             "seq) VALUES ($1, $2, $3, $4, $5, $6)",
                             Params(action_key, officer, now_unix_ms, now_unix_ms + ttl_s * 1000, station, seq),
                             "recording an approval"));
  ST_ASSIGN_OR_RETURN(Rows live, Run(c,
                                     "SELECT officer FROM approval WHERE action_key = $1 AND used_seq IS NULL "
                                     "AND expires_unix_ms > $2 GROUP BY officer ORDER BY MIN(id)",
                                     Params(action_key, now_unix_ms), "counting approvals"));
  std::vector<std::string> officers;
  for (int i = 0; i < PQntuples(live.get()); ++i) officers.push_back(Text(live.get(), i, 0));
  return officers;
}

Status UseApprovals(PGconn* c, const std::string& station, const std::string& action_key, int64_t now_unix_ms,
                    uint64_t seq) {
  return Execute(c,
                 "UPDATE approval SET used_station = $3, used_seq = $4 "
                 "WHERE action_key = $1 AND used_seq IS NULL AND expires_unix_ms > $2",
                 Params(action_key, now_unix_ms, station, seq), "using approvals");
}

Status ImportLot(PGconn* c, const std::string& station, const LotRow& lot, const std::string& upload_id,
                 int64_t now_unix_ms) {
  ST_ASSIGN_OR_RETURN(Rows exists, Run(c, "SELECT 1 FROM lot WHERE name = $1", Params(lot.name), "looking up a lot"));
  if (PQntuples(exists.get()) > 0)
    return MakeError(Code::kAlreadyExists, "LOT_EXISTS",
                     "lot '" + lot.name + "' exists already; choose another --lot name");
  ST_RETURN_IF_ERROR(Execute(c,
                             "INSERT INTO lot (name, profile, state, devices, source, imported_by, imported_unix_ms) "
                             "VALUES ($1, $2, 'open', (SELECT COUNT(*) FROM lot_upload WHERE upload_id = $3), $4, $5, "
                             "$6)",
                             Params(lot.name, lot.profile, upload_id, lot.source, lot.imported_by, now_unix_ms),
                             "recording the lot"));
  ST_RETURN_IF_ERROR(Execute(c,
                             "INSERT INTO lot_device (profile, device_id, lot) "
                             "SELECT $1, device_id, $2 FROM lot_upload WHERE upload_id = $3",
                             Params(lot.profile, lot.name, upload_id), "recording a lot's devices"));
  return DropLotUpload(c, station, upload_id);
}

Result<std::string> CloseLot(PGconn* c, const std::string& name) {
  ST_ASSIGN_OR_RETURN(Rows closed, Run(c, "UPDATE lot SET state = 'closed' WHERE name = $1 RETURNING profile",
                                       Params(name), "closing the lot"));
  if (PQntuples(closed.get()) == 0)
    return MakeError(Code::kNotFound, "LOT_NOT_FOUND", "there is no lot '" + name + "'");
  return Text(closed.get(), 0, 0);
}

Status AddCodes(PGconn* c, const std::string& profile, const std::string& batch, const std::vector<CodeRow>& codes) {
  for (const CodeRow& code : codes)
    ST_RETURN_IF_ERROR(Execute(c,
                               "INSERT INTO registration_code (code_sha256, profile, batch, expires_unix_ms) "
                               "VALUES ($1, $2, $3, $4)",
                               Params(code.code_sha256, profile, batch, code.expires_unix_ms),
                               "recording a registration code"));
  return {};
}

Status AddReissueApproval(PGconn* c, const std::string& station, const std::string& profile,
                          const std::string& device_id, const std::string& approved_by, int64_t now_unix_ms,
                          int64_t ttl_s, uint64_t seq) {
  return Execute(c,
                 "INSERT INTO reissue_approval (profile, device_id, approved_by, created_unix_ms, expires_unix_ms, "
                 "station_id, seq) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                 Params(profile, device_id, approved_by, now_unix_ms, now_unix_ms + ttl_s * 1000, station, seq),
                 "recording the approval");
}

Status StageLotIds(PGconn* c, const std::string& station, const std::string& upload_id,
                   const std::vector<std::string>& ids) {
  ST_RETURN_IF_ERROR(Execute(c, "BEGIN", Params(), "staging a lot"));
  auto staged = [&]() -> Status {
    for (const std::string& id : ids) {
      Rows rows = Send(c, "INSERT INTO lot_upload (station_id, upload_id, device_id) VALUES ($1, $2, $3)",
                       Params(station, upload_id, id));
      if (PQresultStatus(rows.get()) == PGRES_COMMAND_OK) continue;
      if (SqlState(rows.get()) == "23505")
        return MakeError(Code::kInvalidArgument, "LOT_INVALID", "device id '" + id + "' appears twice");
      return Failure(c, rows.get(), "keeping a lot's device ids");
    }
    return {};
  }();
  if (!staged.ok()) {
    (void)Execute(c, "ROLLBACK", Params(), "staging a lot");  // the first error is the one to report
    return staged;
  }
  return Execute(c, "COMMIT", Params(), "staging a lot");
}

Status DropLotUpload(PGconn* c, const std::string& station, const std::string& upload_id) {
  return Execute(c, "DELETE FROM lot_upload WHERE station_id = $1 AND ($2 = '' OR upload_id = $2)",
                 Params(station, upload_id),
                 "dropping a lot's staged ids");
}

Result<std::vector<CaRow>> CaSets(PGconn* c) {
  ST_ASSIGN_OR_RETURN(Rows rows, Run(c,
                                     "SELECT issuer, key_id, key_uri, certificate_pem, state, activate_at_unix_ms "
                                     "FROM ca_state ORDER BY issuer, changed_seq",
                                     Params(), "reading the CA set"));
  std::vector<CaRow> out;
  for (int i = 0; i < PQntuples(rows.get()); ++i)
    out.push_back(CaRow{Text(rows.get(), i, 0), Text(rows.get(), i, 1), Text(rows.get(), i, 2), Text(rows.get(), i, 3),
                        Text(rows.get(), i, 4), Int(rows.get(), i, 5)});
  return out;
}

Result<std::map<std::string, std::string>> ProfileLines(PGconn* c) {
  ST_ASSIGN_OR_RETURN(Rows rows, Run(c, "SELECT profile, lines FROM profile_lines", Params(), "reading profile lines"));
  std::map<std::string, std::string> out;
  for (int i = 0; i < PQntuples(rows.get()); ++i) out[Text(rows.get(), i, 0)] = Text(rows.get(), i, 1);
  return out;
}

Result<std::vector<LotSummary>> Lots(PGconn* c) {
  ST_ASSIGN_OR_RETURN(Rows rows, Run(c,
                                     "SELECT l.name, l.profile, l.state, l.devices, "
                                     "(SELECT COUNT(DISTINCT d.device_id) FROM lot_device d JOIN issuance i "
                                     "ON i.profile = d.profile AND i.device_id = d.device_id WHERE d.lot = l.name) "
                                     "FROM lot l ORDER BY l.imported_unix_ms, l.name",
                                     Params(), "listing lots"));
  std::vector<LotSummary> out;
  for (int i = 0; i < PQntuples(rows.get()); ++i)
    out.push_back({Text(rows.get(), i, 0), Text(rows.get(), i, 1), Text(rows.get(), i, 2), Int(rows.get(), i, 3),
                   Int(rows.get(), i, 4)});
  return out;
}

Result<std::map<std::string, uint64_t>> UnusedCodes(PGconn* c, int64_t now_unix_ms) {
  ST_ASSIGN_OR_RETURN(Rows rows, Run(c,
                                     "SELECT profile, COUNT(*) FROM registration_code "
                                     "WHERE used_seq IS NULL AND expires_unix_ms > $1 GROUP BY profile",
                                     Params(now_unix_ms), "counting registration codes"));
  std::map<std::string, uint64_t> out;
  for (int i = 0; i < PQntuples(rows.get()); ++i)
    out[Text(rows.get(), i, 0)] = static_cast<uint64_t>(Int(rows.get(), i, 1));
  return out;
}

Result<std::set<std::string>> Groups(PGconn* c, const std::string& station, StateTable table) {
  const StateSpec& spec = StateSpecOf(table);
  const bool by_record = spec.station_groups_sql != nullptr;
  ST_ASSIGN_OR_RETURN(Rows rows, by_record ? Run(c, spec.station_groups_sql, Params(station), "reading the registry")
                                           : Run(c, spec.groups_sql, Params(), "reading the registry"));
  std::set<std::string> out;
  for (int i = 0; i < PQntuples(rows.get()); ++i) out.insert(Text(rows.get(), i, 0));
  return out;
}

Result<std::string> GroupDigest(PGconn* c, const std::string& station, StateTable table, const std::string& group) {
  const StateSpec& spec = StateSpecOf(table);
  const bool by_record = spec.station_groups_sql != nullptr;
  ST_ASSIGN_OR_RETURN(GroupDigester digester, GroupDigester::Start(spec, group));
  for (const char* sql : by_record ? spec.station_rows_sql : spec.rows_sql) {
    ST_ASSIGN_OR_RETURN(Rows rows, by_record ? Run(c, sql, Params(group, station), "reading the registry")
                                             : Run(c, sql, Params(group), "reading the registry"));
    for (int i = 0; i < PQntuples(rows.get()); ++i) {
      digester.BeginRow();
      for (int col = 0; col < PQnfields(rows.get()); ++col) {
        if (IsNull(rows.get(), i, col)) {
          digester.Null();
        } else {
          digester.Value(PQgetvalue(rows.get(), i, col), static_cast<size_t>(PQgetlength(rows.get(), i, col)));
        }
      }
    }
    digester.EndQuery();
  }
  return digester.Finish();
}

namespace {

// The SQL of each use check (state_digest.h), in its order: as sqlite_state.cc's,
// with each use naming its record by station and seq. `"authorization" <> ''`
// lets the scans of issuance use the partial index issuance_by_authorization
// (LIKE alone reads every row: 0.2 s at start per 300,000 records).
const char* const kUseCheckSql[kUseCheckCount] = {
    "SELECT c.batch, c.used_seq FROM registration_code c WHERE c.used_seq IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM issuance i WHERE i.station_id = c.used_station AND i.seq = c.used_seq "
    "AND i.\"authorization\" LIKE 'code:' || substr(c.code_sha256, 1, 16) || '%') LIMIT 1",
    "SELECT '', i.seq FROM issuance i WHERE i.\"authorization\" <> '' AND i.\"authorization\" LIKE 'code:%' AND "
    "NOT EXISTS "
    "(SELECT 1 FROM registration_code c WHERE c.used_station = i.station_id AND c.used_seq = i.seq) LIMIT 1",
    "SELECT CAST(r.seq AS TEXT), r.used_seq FROM reissue_approval r WHERE r.used_seq IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM issuance i WHERE i.station_id = r.used_station AND i.seq = r.used_seq AND i.profile = r.profile "
    "AND i.device_id = r.device_id AND i.\"authorization\" LIKE '%+reissue:%') LIMIT 1",
    "SELECT '', i.seq FROM issuance i WHERE i.\"authorization\" <> '' AND i.\"authorization\" LIKE '%+reissue:%' "
    "AND NOT EXISTS "
    "(SELECT 1 FROM reissue_approval r WHERE r.used_station = i.station_id AND r.used_seq = i.seq) LIMIT 1",
    "SELECT CAST(a.seq AS TEXT), a.used_seq FROM approval a WHERE a.used_seq IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM approval b JOIN officer_action o ON o.station_id = b.station_id AND o.seq = b.seq "
    "WHERE b.station_id = a.used_station AND b.seq = a.used_seq AND b.action_key = a.action_key "
    "AND o.detail LIKE '%\"executed\":true%') LIMIT 1",
    "SELECT '', o.seq FROM officer_action o WHERE o.detail LIKE '%\"executed\":true%' AND "
    "(SELECT COUNT(DISTINCT a.officer) FROM approval a WHERE a.used_station = o.station_id AND a.used_seq = o.seq) < "
    "CAST(substring(o.detail from '\"required\":([0-9]+)') AS INTEGER) LIMIT 1",
};

}  // namespace

Result<std::optional<StateProblem>> CheckUses(PGconn* c) {
  for (int check = 0; check < kUseCheckCount; ++check) {
    ST_ASSIGN_OR_RETURN(Rows rows, Run(c, kUseCheckSql[check], Params(), "checking the registry's use marks"));
    if (PQntuples(rows.get()) == 0) continue;
    return std::optional<StateProblem>(UseProblem(check, Text(rows.get(), 0, 0), Text(rows.get(), 0, 1)));
  }
  return std::optional<StateProblem>();
}

}  // namespace station::store::pg
