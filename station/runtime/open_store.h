// The station's store as its config names it: the embedded SQLite file in
// state_dir, or the shared PostgreSQL database ([store] url).
#pragma once

#include <memory>

#include "station/config/config.h"
#include "station/store/store.h"

namespace station::runtime {

struct StoreAccess {
  bool read_write = true;  // false: audit verify, export, listings
  bool durable = true;     // false: station-bench's measure of what durability costs
  // On a shared store: another station's log than the config's (readers only).
  std::string station_id;
};

Result<std::shared_ptr<store::Store>> OpenStore(const config::StationConfig& config, StoreAccess access = {});

}  // namespace station::runtime
