// The cutover.toml configuration file (see README "Configuration").
// Loading checks everything at once and reports every problem, one per line.
// Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>

#include "common/error.h"
#include "proxy/proxy_config.h"

namespace cutover::cli {

struct ServerConfig {
  std::string host;
  uint16_t port = 3306;
  std::string user;
  std::string password;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

struct Credentials {
  std::string user;
  std::string password;
};

struct Config {
  proxy::ProxyConfig proxy;
  std::optional<ServerConfig> source;
  std::optional<ServerConfig> target;
  std::optional<Credentials> replication;
};

// Reads and validates a config file. Any password may instead be given as
// `password_env = "VARIABLE"`, read from the environment.
[[nodiscard]] Result<Config> LoadConfig(const std::string& path);
// The same, from TOML text (for tests); `origin` names it in errors.
[[nodiscard]] Result<Config> ParseConfig(std::string_view text, const std::string& origin);

}  // namespace cutover::cli
