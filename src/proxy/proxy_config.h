// The proxy's configuration: where it listens, who may log in, where the
// primary is, and the limits it enforces. Built by cli/config from the TOML
// file; the proxy treats it as an immutable snapshot.
// Thread-safety: immutable after construction; share by const reference.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/auth.h"
#include "protocol/caching_sha2.h"
#include "protocol/ed25519_auth.h"
#include "protocol/constants.h"

namespace cutover::proxy {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
  bool operator==(const HostPort&) const = default;
};

// A user the proxy authenticates itself. The same user with the same password
// must exist on every backend: the proxy logs in to them as this user.
// The plugin is the one the proxy logs the client in with; towards servers
// the proxy always uses mysql_native_password with SHA1(password).
struct ProxyUser {
  std::string name;
  bool empty_password = false;
  protocol::Sha1Digest stage2{};  // SHA1(SHA1(password)), the mysql.user hash
  // "mysql_native_password", "caching_sha2_password", "client_ed25519" or
  // "mysql_clear_password".
  std::string auth_plugin = protocol::kNativePasswordPlugin;
  // Known only when the config gives the password itself (not its hash):
  // caching_sha2_password's fast auth needs it, and gives no SHA1 of its own.
  std::optional<protocol::Sha256Digest> sha2_stage2;
  std::optional<protocol::Sha1Digest> stage1;
  std::optional<protocol::Ed25519PublicKey> ed25519_key;  // client_ed25519, from the password
  std::optional<std::string> password;  // for servers whose account uses client_ed25519; never logged

  // What the proxy logs in to servers with, once the client proved the
  // password the config has: nullopt for an empty password.
  std::optional<protocol::Sha1Digest> BackendStage1() const {
    return empty_password ? std::nullopt : stage1;
  }
};

// [proxy] tls_*: TLS towards clients. Off unless `cert` is set.
struct ClientTlsConfig {
  std::string cert;      // PEM chain, the proxy's certificate first
  std::string key;       // PEM private key of that certificate
  std::string ca;        // set: TLS clients must present a certificate this CA signed
  bool required = false;  // require_tls: plaintext clients are refused (3159)
  bool enabled() const { return !cert.empty(); }
};

// [source]/[target] tls: TLS towards a server.
enum class BackendTlsMode {
  kOff,       // plaintext
  kRequired,  // encrypted, the certificate not checked
  kVerify,    // encrypted, the certificate checked against `ca` (or the system's CAs) and the host
};
struct BackendTlsConfig {
  HostPort address;
  BackendTlsMode mode = BackendTlsMode::kOff;
  std::string ca;       // PEM CA file; empty: the system's default CAs
  std::string setting;  // "source" or "target", for errors that name the key to change
};

struct ProxyConfig {
  HostPort listen{"127.0.0.1", 6033};
  HostPort admin_listen{"127.0.0.1", 6034};
  std::string admin_token;
  std::string state_file;  // empty: the current primary is not persisted
  std::vector<ProxyUser> users;
  HostPort primary;        // [source]: used when the state file has none

  int threads = 1;  // event loops; each owns its sessions
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds connect_timeout{5'000};   // to a backend, login included
  std::chrono::milliseconds drain_timeout{5'000};     // default for POST /pause
  std::chrono::milliseconds max_pause{15'000};        // a pause never outlives this
  uint32_t max_packet_size = 1u << 30;                // client packets beyond this close the session
  ClientTlsConfig tls;
  std::vector<BackendTlsConfig> backend_tls;          // by address; others use the first ([source]): FindBackendTls

  const ProxyUser* FindUser(std::string_view name) const {
    for (const auto& u : users) {
      if (u.name == name) return &u;
    }
    return nullptr;
  }
};

}  // namespace cutover::proxy
