// The cutover.toml configuration file (see README "Configuration").
// Loading checks everything at once and reports every problem, one per line.
// Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/endpoint.h"
#include "proxy/proxy_config.h"

namespace cutover::cli {

struct ServerConfig {
  std::string host;
  uint16_t port = 3306;
  std::string user;
  std::string password;
  std::chrono::seconds timeout{30};  // timeout_s: see db::Endpoint::timeout
  proxy::BackendTlsMode tls = proxy::BackendTlsMode::kOff;  // how the proxy connects to it
  std::string tls_ca;  // the CA its certificate chains to; empty: the system's CAs
  std::string ToString() const { return host + ":" + std::to_string(port); }
  db::Endpoint ToEndpoint() const { return {host, port, user, password, timeout}; }
};

// [replication]: the account the target replicates with, and how the target
// reaches the source when that differs from [source] host/port (NAT, proxies).
struct ReplicationConfig {
  std::string user;
  std::string password;
  std::string source_host;  // empty: [source] host
  uint16_t source_port = 0;  // 0: [source] port
  std::string target_host;  // how the source reaches the target (reverse replication); empty: [target] host
  uint16_t target_port = 0;  // 0: [target] port
};

// [switchover]: where the move is recorded and the limits it respects.
struct SwitchoverConfig {
  std::string state_file = "cutover-switchover.json";
  int64_t max_lag_s = 60;
  int64_t max_transaction_s = 10;
  int64_t drain_timeout_ms = 3000;
  int64_t catchup_timeout_ms = 10000;
  int64_t max_pause_ms = 500;       // fence + catch-up + promote + re-point, after the drain
  int64_t gate_lag_ms = 100;        // pause only once the target is this close
  int64_t gate_timeout_ms = 60000;  // how long to wait for that before giving up; 0: no gate
  int64_t attempts = 3;             // moves tried when catch-up would outlast max_pause_ms
  std::vector<ServerConfig> replicas;  // [[switchover.replicas]]: re-pointed to the new primary
};

struct Config {
  proxy::ProxyConfig proxy;  // meaningful only when has_proxy
  bool has_proxy = false;
  std::optional<ServerConfig> source;
  std::optional<ServerConfig> target;
  std::optional<ReplicationConfig> replication;
  SwitchoverConfig switchover;
};

// The sections a command cannot run without; a missing one is a problem.
enum Section : unsigned {
  kProxySection = 1,
  kSourceSection = 2,
  kTargetSection = 4,
  kReplicationSection = 8,
};
inline constexpr unsigned kProxyNeeds = kProxySection | kSourceSection;
inline constexpr unsigned kCloneNeeds = kSourceSection | kTargetSection | kReplicationSection;
inline constexpr unsigned kSwitchoverNeeds = kProxySection | kSourceSection | kTargetSection | kReplicationSection;

// The primary and its replica right now: [source] and [target], or the other
// way round once a switchover (per switchover.state_file) has made the target
// the primary.
struct CurrentRoles {
  const ServerConfig* primary = nullptr;
  const ServerConfig* replica = nullptr;
  bool swapped = false;  // the target is the primary
};
// REQUIRES: config.source and config.target are set.
[[nodiscard]] Result<CurrentRoles> ReadCurrentRoles(const Config& config);

// Reads and validates a config file. Any password may instead be given as
// `password_env = "VARIABLE"`, read from the environment. Sections present but
// not in `needs` are still checked.
[[nodiscard]] Result<Config> LoadConfig(const std::string& path, unsigned needs = kProxyNeeds);
// The same, from TOML text (for tests); `origin` names it in errors.
[[nodiscard]] Result<Config> ParseConfig(std::string_view text, const std::string& origin,
                                         unsigned needs = kProxyNeeds);

}  // namespace cutover::cli
