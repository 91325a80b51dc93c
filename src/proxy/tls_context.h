// The OpenSSL contexts the proxy uses: one towards clients (its certificate,
// and the CA client certificates must chain to), one per configured server.
// They are built from files at start and again on reload; sessions keep the
// context they started with, so a reload never drops them.
// Thread-safety: a built TlsContexts is immutable; share it by shared_ptr.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <asio/ssl.hpp>

#include "common/error.h"
#include "proxy/proxy_config.h"
#include "proxy/stream.h"

namespace cutover::proxy {

// A server's TLS: the context to connect with and the name to check.
struct BackendTls {
  std::shared_ptr<asio::ssl::context> context;  // null: plaintext
  TlsServerName name;
  std::string setting;  // "source"/"target"
};

struct TlsContexts {
  std::shared_ptr<asio::ssl::context> clients;  // null: no TLS towards clients
  std::string client_certificate;               // "subject, expires <date>", for logs and the admin API
  // In config order: the first is [source]'s, used for servers not listed.
  std::vector<std::pair<HostPort, BackendTls>> backends;
};

// Loads every file `config` names and checks that each key matches its
// certificate. Errors name the setting and the file.
[[nodiscard]] Result<std::shared_ptr<const TlsContexts>> LoadTlsContexts(const ProxyConfig& config);

// The TLS to use towards `address`: its own, else [source]'s (a server a
// switchover names that the config does not), else plaintext.
BackendTls FindBackendTls(const TlsContexts& contexts, const HostPort& address);

}  // namespace cutover::proxy
