// Running the station's programs from tests and benchmarks (never linked into
// a program): one-shot commands with their output, and a background server
// whose "listening on" line is awaited.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace station::testing {

struct CommandResult {
  int exit_code = -1;  // or 128 + signal
  std::string output;  // stdout and stderr together
};

// Runs argv[0] with the arguments, waits (at most timeout_s), returns its output.
CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_s = 120);

// A figure of station-line simulate's summary: "issued       12" -> 12; -1
// when the output has none.
long Figure(const std::string& output, const std::string& name);

// A program running in the background, stderr captured to a file.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv);
  ~Background();  // SIGKILLs it if still running
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Waits for a stderr line starting with "listening on " and returns the
  // address after it ("" if the process exits or timeout_s passes first).
  std::string WaitForListening(int timeout_s = 30);
  // Sends a signal and waits for the exit; returns the exit code (128 + signal
  // when killed by one, -1 on timeout).
  int Stop(int signal_number, int timeout_s = 30);
  pid_t pid() const { return pid_; }
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

}  // namespace station::testing
