// Secrets in a running station-server: the PIN is nowhere in its command
// line, environment or memory once it has logged in; secret files looser
// than 0600 are refused; it reads the PIN as a systemd credential; it will
// not run as root unless told to on purpose.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "station/base/files.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Where in the process's readable memory `needle` appears ("" if nowhere);
// `scanned` counts the bytes read.
std::string FindInMemory(pid_t pid, const std::string& needle, size_t& scanned) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::ifstream mem("/proc/" + std::to_string(pid) + "/mem", std::ios::binary);
  std::string line;
  std::string chunk;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) != 3 || perms[0] != 'r') continue;
    if (line.find("[vvar]") != std::string::npos || line.find("[vsyscall]") != std::string::npos) continue;
    for (unsigned long at = start; at < end; at += 1 << 20) {
      const size_t len = std::min<unsigned long>(end - at, (1 << 20) + needle.size());
      chunk.resize(len);
      mem.clear();
      mem.seekg(static_cast<std::streamoff>(at));
      if (!mem.read(chunk.data(), static_cast<std::streamsize>(len))) break;  // an unreadable mapping
      scanned += len;
      if (chunk.find(needle) != std::string::npos) return line;
    }
  }
  return "";
}

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_ = MakeDevStation();
    ASSERT_TRUE(dev_);
    ASSERT_GE(dev_->user_pin.size(), 8u);
  }

  // station.conf with its [token] pin_file line replaced by `pin_line`.
  std::string ConfWithPin(const std::string& pin_line) {
    std::string conf = ReadAll(dev_->setup.station_conf);
    size_t at = conf.find("pin_file = ");
    EXPECT_NE(at, std::string::npos);
    conf.replace(at, conf.find('\n', at) - at, pin_line);
    std::string path = dev_->setup.station_conf + ".pin-variant";  // beside it: paths in it are relative
    EXPECT_TRUE(base::WriteFile(path, conf, 0600).ok());
    return path;
  }

  // Signs one CSR through the running server with station-line.
  void SignOne(const std::string& address) {
    std::string csr = dev_->dir.path() + "/device.csr";
    auto made = RunCommand({"/usr/bin/openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-keyout", dev_->dir.path() + "/device.key", "-subj", "/CN=secret-test",
                            "-out", csr});
    ASSERT_EQ(made.exit_code, 0) << made.output;
    auto signed_ = RunCommand({ProgramPath("station-line"), "--config", dev_->setup.line_conf, "--target", address,
                               "sign", csr, "--out", dev_->dir.path() + "/out"});
    ASSERT_EQ(signed_.exit_code, 0) << signed_.output;
  }

  void ExpectPinNowhere(const Background& server, bool memory_too) {
    const pid_t pid = server.pid();
    const std::string proc = "/proc/" + std::to_string(pid);
    EXPECT_EQ(server.log().find(dev_->user_pin), std::string::npos) << "PIN in the log";
    EXPECT_EQ(ReadAll(proc + "/cmdline").find(dev_->user_pin), std::string::npos) << "PIN in the command line";
    EXPECT_EQ(ReadAll(proc + "/environ").find(dev_->user_pin), std::string::npos) << "PIN in the environment";
    if (!memory_too) return;
    size_t scanned = 0;
    EXPECT_EQ(FindInMemory(pid, dev_->user_pin, scanned), "") << "PIN still in memory";
    EXPECT_GT(scanned, 1u << 20) << "the server's memory could not be read (run as root)";
  }

  std::unique_ptr<DevStation> dev_;
};

TEST_F(SecretsTest, AFilePinIsWipedFromMemoryAfterLogin) {
  Background server(ServerCommand({"--config", dev_->setup.station_conf}));
  std::string address = server.WaitForListening();
  ASSERT_FALSE(address.empty()) << server.log();
  SignOne(address);
  ExpectPinNowhere(server, true);
}

TEST_F(SecretsTest, AnEnvironmentPinLeavesTheEnvironment) {
  std::string conf = ConfWithPin("pin_env = \"STATION_SECRETS_TEST_PIN\"");
  ::setenv("STATION_SECRETS_TEST_PIN", dev_->user_pin.c_str(), 1);
  Background server(ServerCommand({"--config", conf}));
  ::unsetenv("STATION_SECRETS_TEST_PIN");
  std::string address = server.WaitForListening();
  ASSERT_FALSE(address.empty()) << server.log();
  SignOne(address);
  ExpectPinNowhere(server, false);  // kept in memory for a re-login: it cannot be read again
}

TEST_F(SecretsTest, ThePinComesAsASystemdCredential) {
  // What LoadCredential=token-pin:/etc/station/token.pin does: a 0400 file in $CREDENTIALS_DIRECTORY.
  std::string creds = dev_->dir.path() + "/credentials";
  ASSERT_EQ(::mkdir(creds.c_str(), 0700), 0);
  ASSERT_TRUE(base::WriteFile(creds + "/token-pin", dev_->user_pin, 0400).ok());
  std::string conf = ConfWithPin("pin_credential = \"token-pin\"");
  ::setenv("CREDENTIALS_DIRECTORY", creds.c_str(), 1);
  Background server(ServerCommand({"--config", conf}));
  ::unsetenv("CREDENTIALS_DIRECTORY");
  std::string address = server.WaitForListening();
  ASSERT_FALSE(address.empty()) << server.log();
  SignOne(address);
  ExpectPinNowhere(server, true);

  // The unit in ops/ runs it as its own user and hands it the PIN that way.
  std::string unit = ReadAll(std::string(STATION_SOURCE_DIR) + "/ops/station-server.service");
  EXPECT_NE(unit.find("\nUser=station\n"), std::string::npos);
  EXPECT_NE(unit.find("\nLoadCredential=token-pin:"), std::string::npos);
  EXPECT_EQ(unit.find("--allow-root"), std::string::npos);
}

TEST_F(SecretsTest, TheTlsKeyComesAsASystemdCredential) {
  // What LoadCredential=tls-key:/etc/station/tls/server.key does.
  std::string creds = dev_->dir.path() + "/tls-credentials";
  ASSERT_EQ(::mkdir(creds.c_str(), 0700), 0);
  ASSERT_TRUE(base::WriteFile(creds + "/tls-key", ReadAll(dev_->config.tls.key), 0400).ok());
  std::string conf = ReadAll(dev_->setup.station_conf);
  const size_t at = conf.find("\nkey = ");
  ASSERT_NE(at, std::string::npos);
  conf.replace(at + 1, conf.find('\n', at + 1) - at - 1, "key_credential = \"tls-key\"");
  const std::string path = dev_->setup.station_conf + ".key-credential";
  ASSERT_TRUE(base::WriteFile(path, conf, 0600).ok());
  auto unset = RunCommand(ServerCommand({"--config", path}), 60);  // no credentials: refused, by name
  EXPECT_EQ(unset.exit_code, 78) << unset.output;
  EXPECT_NE(unset.output.find("TLS key credential tls-key: CREDENTIALS_DIRECTORY is not set"), std::string::npos)
      << unset.output;
  ::setenv("CREDENTIALS_DIRECTORY", creds.c_str(), 1);
  Background server(ServerCommand({"--config", path}));
  ::unsetenv("CREDENTIALS_DIRECTORY");
  std::string address = server.WaitForListening();
  ASSERT_FALSE(address.empty()) << server.log();
  SignOne(address);
  std::string unit = ReadAll(std::string(STATION_SOURCE_DIR) + "/ops/station-server.service");
  EXPECT_NE(unit.find("\nLoadCredential=tls-key:"), std::string::npos);
}

TEST_F(SecretsTest, SecretFilesLooserThan0600AreRefused) {
  for (const std::string& file : {dev_->config.token.pin.name, dev_->config.tls.key}) {
    SCOPED_TRACE(file);
    ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
    auto r = RunCommand(ServerCommand({"--config", dev_->setup.station_conf}), 60);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("readable or writable by group or others (mode 0640); run: chmod 600 " + file),
              std::string::npos)
        << r.output;
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  }
}

TEST_F(SecretsTest, RootIsRefusedUnlessAllowedOnPurpose) {
  if (::geteuid() != 0) GTEST_SKIP() << "runs as root only (CI does)";
  auto r = RunCommand({ProgramPath("station-server"), "--config", dev_->setup.station_conf}, 60);
  EXPECT_EQ(r.exit_code, 78);  // EX_CONFIG: no restart runs it as root
  EXPECT_NE(r.output.find("FAILED_PRECONDITION RUNS_AS_ROOT"), std::string::npos) << r.output;
  Background allowed(ServerCommand({"--config", dev_->setup.station_conf}));
  EXPECT_FALSE(allowed.WaitForListening().empty()) << allowed.log();
  EXPECT_NE(allowed.log().find("WARNING running as root (--allow-root)"), std::string::npos);
}

}  // namespace
}  // namespace station::testing
