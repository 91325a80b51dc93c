// Where a MySQL/MariaDB server listens and whom to log in as.
// Thread-safety: a plain value; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>

namespace cutover::db {

struct Endpoint {
  std::string host;
  uint16_t port = 3306;
  std::string user;
  std::string password;

  // "host:port", or "[host]:port" for an IPv6 literal. Never includes the password.
  std::string ToString() const;
};

}  // namespace cutover::db
