// A SoftHSM token and nothing else, for the hsm/ layer's tests: its own
// SoftHSM directory and configuration, one initialized token, a user PIN,
// and keys made in it on request. No station, no CA, no configuration file.
#pragma once

#include <memory>
#include <string>

#include "hsm/key.h"
#include "hsm/module.h"
#include "hsm/token.h"
#include "tests/support/dev_station.h"

namespace station::testing {

struct BareToken {
  TempDir dir;
  std::string label = "bare";
  std::string user_pin;
  std::shared_ptr<hsm::Module> module;
  std::shared_ptr<hsm::Token> token;  // logged in, up to 4 sessions
};

// A fresh token. Call once per test process (the SoftHSM module reads
// SOFTHSM2_CONF once, when it is loaded). Null, with a test failure, when it
// cannot be made.
std::unique_ptr<BareToken> MakeBareToken();

// A key pair generated in the token (sensitive, not extractable, with a CKA_ID).
std::shared_ptr<hsm::TokenKey> MakeTokenKey(BareToken& bare, hsm::KeyAlgorithm algorithm, const std::string& label);

}  // namespace station::testing
