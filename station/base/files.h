// Reading and writing the small files a station keeps (configs, PEM, PIN and
// key files): bounded reads, and writes that appear whole with an exact mode.
#pragma once

#include <string>
#include <string_view>

#include "station/base/error.h"

namespace station::base {

// Reads a whole file of at most `max_bytes`.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 1 << 20);

// A file that appears at `path` whole or not at all. It is written beside
// `path` under a name nobody can predict or place beforehand (mkstemp:
// O_CREAT|O_EXCL, so never through a symlink or into another's file), given
// exactly `mode`, synced, and renamed onto `path` by Commit(); a NewFile
// never committed is removed.
class NewFile {
 public:
  static Result<NewFile> Create(const std::string& path, unsigned mode);
  NewFile(NewFile&& other) noexcept;
  NewFile& operator=(NewFile&&) = delete;
  ~NewFile();

  Status Append(std::string_view data);
  Status Commit();

 private:
  NewFile(std::string path, std::string tmp, int fd) : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}
  Error Failed(const std::string& doing, int err) const;
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
};

// Writes a file atomically with the given mode (a NewFile).
Status WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644);

}  // namespace station::base
