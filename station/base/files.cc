#include "station/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

namespace station::base {

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(Code::kFailedPrecondition, "FILE_UNREADABLE", "cannot read " + path + ": " + std::strerror(errno));
  std::string content;
  content.resize(max_bytes + 1);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > max_bytes)
    return MakeError(Code::kFailedPrecondition, "FILE_TOO_LARGE",
                     path + " is larger than " + std::to_string(max_bytes) + " bytes");
  return content;
}

Result<NewFile> NewFile::Create(const std::string& path, unsigned mode) {
  std::string tmp = path + ".new-XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0)
    return MakeError(Code::kFailedPrecondition, "FILE_UNWRITABLE", "cannot create a file beside " + path + ": " +
                                                                       std::strerror(errno));
  NewFile file(path, std::move(tmp), fd);
  // Exactly `mode`, whatever the umask: a PIN file must not come out wider.
  if (::fchmod(fd, mode) != 0) return file.Failed("setting the mode of", errno);
  return file;
}

NewFile::NewFile(NewFile&& other) noexcept
    : path_(std::move(other.path_)), tmp_(std::move(other.tmp_)), fd_(std::exchange(other.fd_, -1)) {}

NewFile::~NewFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
}

Error NewFile::Failed(const std::string& doing, int err) const {
  return MakeError(Code::kFailedPrecondition, "FILE_UNWRITABLE", doing + " " + path_ + ": " + std::strerror(err));
}

Status NewFile::Append(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Failed("writing", errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status NewFile::Commit() {
  if (::fsync(fd_) != 0) return Failed("syncing", errno);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0 || ::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    return Failed("writing", err);
  }
  return {};
}

Status WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  ST_ASSIGN_OR_RETURN(NewFile file, NewFile::Create(path, mode));
  ST_RETURN_IF_ERROR(file.Append(content));
  return file.Commit();
}

}  // namespace station::base
