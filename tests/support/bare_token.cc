#include "tests/support/bare_token.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "hsm/keygen.h"
#include "station/base/files.h"

namespace station::testing {

std::unique_ptr<BareToken> MakeBareToken() {
  auto bare = std::make_unique<BareToken>();
  const std::string conf = bare->dir.path() + "/softhsm2.conf";
  Status written = base::WriteFile(conf,
                                   "directories.tokendir = " + bare->dir.path() +
                                       "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                                   0600);
  EXPECT_TRUE(written.ok()) << written.error().ToString();
  ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  auto module = hsm::Module::Load(SOFTHSM_MODULE);
  EXPECT_TRUE(module.ok()) << module.error().ToString();
  if (!written.ok() || !module.ok()) return nullptr;
  bare->module = *module;
  bare->user_pin = "user-pin-" + bare->dir.path().substr(bare->dir.path().size() - 6);
  Status made = hsm::InitializeToken(*bare->module, bare->label, Secret("so-pin-1234"), Secret(bare->user_pin));
  EXPECT_TRUE(made.ok()) << made.error().ToString();
  if (!made.ok()) return nullptr;
  hsm::Pkcs11Uri uri;
  uri.token = bare->label;
  hsm::TokenOptions options;
  options.max_sessions = 4;
  auto token = hsm::Token::Open(bare->module, uri, Secret(bare->user_pin), options);
  EXPECT_TRUE(token.ok()) << token.error().ToString();
  if (!token.ok()) return nullptr;
  bare->token = *token;
  return bare;
}

std::shared_ptr<hsm::TokenKey> MakeTokenKey(BareToken& bare, hsm::KeyAlgorithm algorithm, const std::string& label) {
  hsm::KeygenRequest request;
  request.algorithm = algorithm;
  request.label = label;
  auto key = hsm::GenerateKeyPair(bare.token, request);
  EXPECT_TRUE(key.ok()) << key.error().ToString();
  return key.ok() ? *key : nullptr;
}

}  // namespace station::testing
