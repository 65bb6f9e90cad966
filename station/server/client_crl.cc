#include "station/server/client_crl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "station/base/files.h"
#include "station/pki/cert_builder.h"
#include "station/pki/pem.h"

namespace station::server {
namespace {

namespace fs = std::filesystem;

// A revocation list of a few hundred thousand lines is far below this.
constexpr size_t kMaxCrlFileBytes = 16 << 20;
// A list due this soon gets a warning at start: once due, every client is refused.
constexpr long kWarnBeforeSeconds = 2 * 86400;

Error CrlError(const std::string& crl_path, const std::string& what) {
  return MakeError(Code::kFailedPrecondition, "TLS_CRL_INVALID", "[tls] crl " + crl_path + ": " + what);
}

Result<std::vector<X509CrlPtr>> ReadCrls(const std::string& crl_path) {
  ST_ASSIGN_OR_RETURN(std::string pem, base::ReadFile(crl_path, kMaxCrlFileBytes));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return CrlError(crl_path, "cannot be read into memory: " + OpenSslErrors());
  std::vector<X509CrlPtr> crls;
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) crls.emplace_back(crl);
  ERR_clear_error();  // the loop ends on "no start line"
  if (crls.empty()) return CrlError(crl_path, "holds no PEM revocation list (-----BEGIN X509 CRL-----)");
  return crls;
}

}  // namespace

Result<CrlSummary> PrepareCrlDirectory(const std::string& crl_path, const std::string& client_ca_pem,
                                        const std::string& dir) {
  ST_ASSIGN_OR_RETURN(auto crls, ReadCrls(crl_path));
  ST_ASSIGN_OR_RETURN(auto cas, pki::ParseCertsPem(client_ca_pem, "[tls] client_ca"));
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return MakeError(Code::kFailedPrecondition, "STATE_DIR", "cannot create " + dir + ": " + ec.message());

  std::map<unsigned long, int> per_hash;  // OpenSSL looks up <hash>.r0, .r1, ... until one is missing
  size_t revoked = 0;
  std::string earliest_next_update;
  int64_t earliest_unix = 0;
  bool due_soon = false;
  for (const auto& crl : crls) {
    X509_NAME* issuer = X509_CRL_get_issuer(crl.get());
    X509* signer = nullptr;
    for (const auto& ca : cas)
      if (X509_NAME_cmp(X509_get_subject_name(ca.get()), issuer) == 0) signer = ca.get();
    if (signer == nullptr)
      return CrlError(crl_path, "issued by '" + pki::NameText(issuer) + "', which is not in [tls] client_ca");
    if (X509_CRL_verify(crl.get(), X509_get0_pubkey(signer)) != 1) {
      ERR_clear_error();
      return CrlError(crl_path, "its signature does not verify with '" + pki::NameText(issuer) + "'");
    }
    const ASN1_TIME* next_update = X509_CRL_get0_nextUpdate(crl.get());
    if (next_update != nullptr && X509_cmp_current_time(next_update) <= 0)
      return CrlError(crl_path, "expired at " + pki::TimeText(next_update) +
                                    " (its nextUpdate): every client would be refused; publish a fresh one");
    if (next_update != nullptr &&
        (earliest_next_update.empty() || pki::TimeText(next_update) < earliest_next_update)) {
      earliest_next_update = pki::TimeText(next_update);
      earliest_unix = pki::TimeUnix(next_update);
    }
    Asn1TimePtr warn_from(X509_time_adj_ex(nullptr, 0, kWarnBeforeSeconds, nullptr));
    if (next_update != nullptr && ASN1_TIME_compare(next_update, warn_from.get()) <= 0) due_soon = true;
    revoked += static_cast<size_t>(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())));

    unsigned long hash = X509_NAME_hash_ex(issuer, nullptr, nullptr, nullptr);
    char name[32];
    std::snprintf(name, sizeof name, "%08lx.r%d", hash, per_hash[hash]++);
    BioPtr out(BIO_new(BIO_s_mem()));
    char* data = nullptr;
    long size = 0;
    if (!out || PEM_write_bio_X509_CRL(out.get(), crl.get()) != 1 || (size = BIO_get_mem_data(out.get(), &data)) <= 0)
      return CrlError(crl_path, "cannot be copied for gRPC: " + OpenSslErrors());
    ST_RETURN_IF_ERROR(base::WriteFile(dir + "/" + name, std::string(data, static_cast<size_t>(size)), 0644));
  }
  std::string summary = "client certificate revocation: " + std::to_string(crls.size()) + " list(s) from " +
                        crl_path + ", " + std::to_string(revoked) + " revoked" +
                        (earliest_next_update.empty() ? "" : ", next update due " + earliest_next_update) +
                        "; a changed list takes effect at restart";
  if (due_soon)
    summary = "the [tls] crl is due for its next update by " + earliest_next_update +
              ": publish a fresh list and restart before then, or every line and officer will be refused. " +
              summary;
  return CrlSummary{summary, due_soon, earliest_unix};
}

}  // namespace station::server
