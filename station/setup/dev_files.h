// What a development station's files are made of (dev-setup and dev-setup
// --join): directories, TLS pairs from the dev TLS CA, client configs.
#pragma once

#include <openssl/x509.h>
#include <sys/types.h>

#include <string>

#include "station/base/error.h"
#include "station/pki/cert_builder.h"

namespace station::setup {

Status MakeDir(const std::string& path, mode_t mode);
std::string RandomHex(size_t bytes);
std::string Quote(const std::string& s);  // a TOML basic string of a path or name

struct TlsPair {
  std::string cert_path, key_path;
};

// A TLS certificate DIR/NAME.pem and its key DIR/NAME.key (mode 0600), issued by the TLS CA.
Result<TlsPair> WriteTlsPair(const std::string& dir, const std::string& name, const pki::CertSpec& spec,
                             EVP_PKEY* ca_key, X509* ca_cert);
// The server's pair, for localhost and the host of `listen`.
Result<TlsPair> WriteServerPair(const std::string& tls_dir, const std::string& listen, EVP_PKEY* ca_key,
                                X509* ca_cert);
// A client's pair "CN=<name>,OU=<role>".
Result<TlsPair> WriteClientPair(const std::string& tls_dir, const std::string& name, const std::string& role,
                                EVP_PKEY* ca_key, X509* ca_cert);

// line.conf / officer.conf text: the target a client dials for `listen`, the
// TLS CA that issued the server's certificate, and the client's own pair.
std::string ClientConf(const std::string& listen, const std::string& tls_ca, const TlsPair& pair);

}  // namespace station::setup
