#include "station/pki/chain.h"

#include <openssl/x509_vfy.h>

#include "station/pki/cert_builder.h"

namespace station::pki {
namespace {

using StorePtr = OsslPtr<X509_STORE, X509_STORE_free>;
using StoreCtxPtr = OsslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
void FreeCertStack(STACK_OF(X509) * stack) { sk_X509_free(stack); }  // a macro in OpenSSL 3
using CertStackPtr = OsslPtr<STACK_OF(X509), FreeCertStack>;

}  // namespace

Status CheckChainToRoot(const std::vector<X509Ptr>& chain, const std::vector<X509Ptr>& roots) {
  if (chain.empty()) return MakeError(Code::kFailedPrecondition, "CA_CHAIN_INVALID", "no CA certificate given");
  if (roots.empty()) return MakeError(Code::kFailedPrecondition, "CA_CHAIN_INVALID", "no root certificate given");
  StorePtr store(X509_STORE_new());
  CertStackPtr untrusted(sk_X509_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return MakeError(Code::kInternal, "OPENSSL_ERROR", "out of memory");
  for (const auto& root : roots)
    if (X509_STORE_add_cert(store.get(), root.get()) != 1)
      return MakeError(Code::kInternal, "OPENSSL_ERROR", "cannot add a root to the trust store");
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].get());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted.get()) != 1)
    return MakeError(Code::kInternal, "OPENSSL_ERROR", "cannot set up chain verification");
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT | X509_V_FLAG_CHECK_SS_SIGNATURE);
  // The issuing CA is the leaf of this check; it must itself be a CA.
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_ANY);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    X509* at = X509_STORE_CTX_get_current_cert(ctx.get());
    return MakeError(Code::kFailedPrecondition, "CA_CHAIN_INVALID",
                     std::string("the CA certificate does not chain to the configured root: ") +
                         X509_verify_cert_error_string(err) +
                         (at ? " (at " + NameText(X509_get_subject_name(at)) + ")" : std::string()));
  }
  if (X509_check_ca(chain[0].get()) == 0)
    return MakeError(Code::kFailedPrecondition, "CA_CERT_NOT_CA",
                     "the certificate is not a CA certificate (basicConstraints CA:TRUE is missing)");
  return {};
}

}  // namespace station::pki
