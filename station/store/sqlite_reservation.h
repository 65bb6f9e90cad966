// The reservation check's lookups (reservation_check.h) in SQLite (store/
// only), through one connection's prepared statements. A batch's writer
// connection holds SQLite's write lock, so its lookups need no lock of their own.
#pragma once

#include <sqlite3.h>

#include "station/store/reservation_check.h"
#include "station/store/sqlite_db.h"

namespace station::store::sqlite {

class SqliteReservationRows final : public ReservationRows {
 public:
  SqliteReservationRows(sqlite3* db, StatementCache& statements) : db_(db), statements_(statements) {}
  // No statement stays mid-step after a check.
  ~SqliteReservationRows() override { statements_.ResetAll(); }

  Result<std::optional<Issued>> KeyIssued(const std::string& spki_sha256) override;
  Result<std::optional<Issued>> DeviceIssued(const std::string& profile, const std::string& device_id) override;
  Result<std::optional<std::string>> OpenLot(const std::string& profile, const std::string& device_id) override;
  Result<std::optional<MintedCode>> FindCode(const std::string& code_sha256) override;
  Status UseCode(const std::string& code_sha256, uint64_t seq) override;
  Result<std::optional<ReissueApproval>> LiveReissueApproval(const std::string& profile, const std::string& device_id,
                                                             int64_t now_unix_ms) override;
  Status UseReissueApproval(int64_t id, uint64_t seq) override;

 private:
  // The statement for `sql` with `values` bound, stepped once: true on a row.
  template <typename... Values>
  Result<bool> Query(sqlite3_stmt*& stmt, const char* sql, const char* doing, const Values&... values);

  sqlite3* db_;
  StatementCache& statements_;
};

}  // namespace station::store::sqlite
