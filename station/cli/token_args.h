// Which token a key-ceremony command works on: the [token] of --config, or
// --module/--token-uri with a PIN file or variable (never a PIN on the
// command line) for a token that has no station config yet.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "hsm/token.h"
#include "station/base/args.h"

namespace station::cli {

// The flags OpenTokenFromArgs reads.
std::set<std::string> TokenFlags();

// Opens and logs in to the token the flags name.
Result<std::shared_ptr<hsm::Token>> OpenTokenFromArgs(const base::Args& args);

}  // namespace station::cli
