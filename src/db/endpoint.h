// Where a MySQL/MariaDB server listens and whom to log in as.
// Thread-safety: a plain value; safe to copy between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cutover::db {

inline constexpr int kDataTimeoutFactor = 4;

struct Endpoint {
  std::string host;
  uint16_t port = 3306;
  std::string user;
  std::string password;
  // The longest cutover waits on this server's socket for one read or write
  // before calling the server stalled (SIGSTOPped, hung, or cut off by the
  // network): the call then fails instead of waiting forever. Data-copy and
  // checksum sessions wait kDataTimeoutFactor times as long.
  std::chrono::seconds timeout{30};

  // "host:port", or "[host]:port" for an IPv6 literal. Never includes the password.
  std::string ToString() const;
};

}  // namespace cutover::db
