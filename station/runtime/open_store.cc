#include "station/runtime/open_store.h"

#include "station/store/pg_store.h"
#include "station/store/sqlite_store.h"

namespace station::runtime {

Result<std::shared_ptr<store::Store>> OpenStore(const config::StationConfig& config, StoreAccess access) {
  if (!access.station_id.empty() && !config.store.shared())
    return MakeError(Code::kInvalidArgument, "USAGE",
                     "--station and --all are for a shared store; " + config.path + " has one log, its own");
  if (!access.station_id.empty() && access.read_write)
    return MakeError(Code::kInvalidArgument, "USAGE", "another station's log is only read");
  if (!config.store.shared())
    return store::OpenSqliteStore(config.audit_db_path(), {.read_write = access.read_write, .durable = access.durable});
  return store::OpenPostgresStore({.url = config.store.url,
                                   .password_file = config.store.password_file,
                                   .station_id = access.station_id.empty() ? config.store.station_id
                                                                           : access.station_id,
                                   .read_write = access.read_write,
                                   .durable = access.durable});
}

}  // namespace station::runtime
