#include "hsm/module.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <map>
#include <mutex>

namespace station::hsm {
namespace {

// One Module per path per process: C_Initialize/C_Finalize are process-wide.
std::mutex g_modules_mu;  // guards g_modules
std::map<std::string, std::weak_ptr<Module>> g_modules;

}  // namespace

Result<std::shared_ptr<Module>> Module::Load(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_modules_mu);
  if (auto it = g_modules.find(path); it != g_modules.end()) {
    if (auto existing = it->second.lock()) return existing;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return MakeError(Code::kFailedPrecondition, "TOKEN_MODULE_NOT_FOUND",
                     "PKCS#11 module " + path + " does not exist (is the HSM client or softhsm2 installed?)");
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr)
    return MakeError(Code::kFailedPrecondition, "TOKEN_MODULE_LOAD_FAILED",
                     "cannot load PKCS#11 module " + path + ": " + ::dlerror());
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  if (get_list == nullptr) {
    ::dlclose(handle);
    return MakeError(Code::kFailedPrecondition, "TOKEN_MODULE_LOAD_FAILED",
                     path + " is not a PKCS#11 module (no C_GetFunctionList)");
  }
  CK_FUNCTION_LIST* fn = nullptr;
  CK_RV rv = get_list(&fn);
  if (rv != CKR_OK || fn == nullptr) {
    ::dlclose(handle);
    return CkError(rv, "C_GetFunctionList of " + path);
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  rv = fn->C_Initialize(&args);
  bool finalize = true;
  if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    finalize = false;  // someone else in this process owns it
  } else if (rv != CKR_OK) {
    ::dlclose(handle);
    return CkError(rv, "C_Initialize of " + path);
  }
  std::shared_ptr<Module> module(new Module(path, handle, fn, finalize));
  g_modules[path] = module;
  return module;
}

Module::~Module() {
  if (finalize_) fn_->C_Finalize(nullptr);
  // No dlclose: SoftHSM and some HSM clients register atexit handlers and
  // OpenSSL callbacks that must outlive the module's use.
  (void)handle_;
}

}  // namespace station::hsm
