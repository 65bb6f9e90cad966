#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace station::testing {
namespace {

std::vector<char*> Argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

int WaitExit(pid_t pid, int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TempLog() {
  char name[] = "/tmp/station-proc-XXXXXX";
  int fd = mkstemp(name);
  if (fd >= 0) close(fd);
  return name;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_path, bool capture_stdout) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (capture_stdout) posix_spawn_file_actions_adddup2(&actions, 2, 1);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  auto args = Argv(argv);
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_s) {
  CommandResult result;
  std::string out = TempLog();
  pid_t pid = Spawn(argv, out, true);
  if (pid < 0) {
    result.output = "cannot start " + argv[0];
    return result;
  }
  result.exit_code = WaitExit(pid, timeout_s);
  if (result.exit_code == -1) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  result.output = ReadAll(out);
  unlink(out.c_str());
  return result;
}

Background::Background(const std::vector<std::string>& argv) : log_path_(TempLog()) {
  pid_ = Spawn(argv, log_path_, false);
}

Background::~Background() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  unlink(log_path_.c_str());
}

std::string Background::WaitForListening(int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(ReadAll(log_path_));
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("listening on ", 0) == 0) return line.substr(13);
    if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return "";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

int Background::Stop(int signal_number, int timeout_s) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal_number);
  int code = WaitExit(pid_, timeout_s);
  if (code != -1) pid_ = -1;
  return code;
}

std::string Background::log() const { return ReadAll(log_path_); }

long Figure(const std::string& output, const std::string& name) {
  const size_t at = output.find("\n" + name + " ");
  const size_t from = at == std::string::npos ? output.rfind(name + " ", 0) : at + 1;
  if (from == std::string::npos) return -1;
  return std::strtol(output.c_str() + from + name.size(), nullptr, 10);
}

}  // namespace station::testing
