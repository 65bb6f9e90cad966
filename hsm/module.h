// A PKCS#11 module (a shared library such as libsofthsm2.so or a network HSM's
// client library), loaded by path and initialized once per process.
#pragma once

#include <memory>
#include <string>

#include "hsm/pkcs11.h"
#include "station/base/error.h"

namespace station::hsm {

class Module {
 public:
  // Loads the module and calls C_Initialize with OS locking (we call it from
  // many threads). A module already initialized in this process is shared.
  static Result<std::shared_ptr<Module>> Load(const std::string& path);

  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  CK_FUNCTION_LIST* fn() const noexcept { return fn_; }
  const std::string& path() const noexcept { return path_; }

 private:
  Module(std::string path, void* handle, CK_FUNCTION_LIST* fn, bool finalize)
      : path_(std::move(path)), handle_(handle), fn_(fn), finalize_(finalize) {}

  std::string path_;
  void* handle_;
  CK_FUNCTION_LIST* fn_;
  bool finalize_;  // we initialized it, so we finalize it
};

}  // namespace station::hsm
