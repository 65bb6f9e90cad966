// What one issuance takes from the registry if it goes ahead: its public key,
// its device under a one-per-device profile, its place on a lot, its
// registration code. The store checks a reservation before signing and
// carries it out with the record, in one transaction (store/store.h).
#pragma once

#include <string>

namespace station::policy {

struct Reservation {
  std::string profile;
  std::string device_id;
  std::string spki_sha256;
  bool one_per_device = false;
  bool lot_required = false;
  bool code_required = false;
  std::string code_sha256;  // the registration code the request carried; "" for none
};

// Lowercase hex SHA-256 of a registration code: all the registry keeps of it.
std::string CodeHash(const std::string& code);

}  // namespace station::policy
