// `station-line sign CSR_FILE... --out DIR`: one Sign call per CSR (PEM or
// DER); writes NAME.pem (the certificate) and NAME.chain.pem next to it in DIR.
#pragma once

#include <string>
#include <vector>

#include "station/client/request_fields.h"
#include "station/config/config.h"

namespace station::client {

struct SignFilesOptions {
  std::vector<std::string> csr_files;
  std::string out_dir;
  std::string profile;
  std::string device_id;  // only with a single CSR
  RequestFields fields;   // attributes and thing; thing_name only with a single CSR
};

// Returns the number of CSRs that failed (0 on full success).
Result<int> SignFiles(const config::LineConfig& config, const SignFilesOptions& options);

}  // namespace station::client
