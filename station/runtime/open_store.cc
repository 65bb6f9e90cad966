#include "station/runtime/open_store.h"

#include "station/store/pg_store.h"
#include "station/store/sqlite_store.h"

namespace station::runtime {

Result<std::shared_ptr<store::Store>> OpenStore(const config::StationConfig& config, StoreAccess access) {
  if (!config.store.shared())
    return store::OpenSqliteStore(config.audit_db_path(), {.read_write = access.read_write, .durable = access.durable});
  return store::OpenPostgresStore({.url = config.store.url,
                                   .password_file = config.store.password_file,
                                   .station_id = config.store.station_id,
                                   .read_write = access.read_write,
                                   .durable = access.durable});
}

}  // namespace station::runtime
