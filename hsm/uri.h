// PKCS#11 URIs (RFC 7512): how the station names a token and a key,
// for example "pkcs11:token=station;object=station-ca;type=private".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "station/base/error.h"
#include "station/base/ossl.h"

namespace station::hsm {

struct Pkcs11Uri {
  // Path attributes (RFC 7512 2.3), percent-decoded; empty when absent.
  std::string token;         // token label
  std::string manufacturer;  // token manufacturer
  std::string serial;        // token serial number
  std::string model;         // token model
  std::string object;        // object label (CKA_LABEL)
  Bytes id;                  // object id (CKA_ID)
  std::string type;          // "private", "public", "cert", ... or empty
  std::optional<unsigned long> slot_id;  // slot-id path attribute

  // Query attributes we honour. A "pin-value" is refused: a PIN inside a URI
  // ends up in config files, logs and process listings.
  std::string module_path;  // module-path

  // Re-encodes the URI (for messages; never contains a PIN).
  std::string ToString() const;
};

// Parses a "pkcs11:" URI. Unknown path attributes are refused (RFC 7512 says a
// consumer must not ignore attributes that narrow the match); unknown query
// attributes are ignored.
// "pkcs11:token=TOKEN;object=KEY;type=private": how the station names a
// private key by its label (token left out when empty).
Pkcs11Uri PrivateKeyUri(const std::string& token_label, const std::string& key_label);

Result<Pkcs11Uri> ParsePkcs11Uri(std::string_view text);

}  // namespace station::hsm
