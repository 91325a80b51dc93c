// Where a MySQL/MariaDB server listens and whom to log in as.
// Thread-safety: a plain value; safe to copy between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cutover::db {

struct Endpoint {
  std::string host;
  uint16_t port = 3306;
  std::string user;
  std::string password;
  // The longest cutover waits on this server's socket for one read or write
  // before calling the server stalled (SIGSTOPped, hung, or cut off by the
  // network): the call then fails instead of waiting forever. Data-copy and
  // checksum sessions wait longer: DataReadTimeout.
  std::chrono::seconds timeout{30};

  // "host:port", or "[host]:port" for an IPv6 literal. Never includes the password.
  std::string ToString() const;
};

// The read timeout of a session whose statements make the server work before
// it says anything: a LOAD DATA batch, a checksum over a chunk or over a whole
// keyless table. A socket timeout bounds silence, not the statement: rows that
// stream (a chunk's SELECT) reset it with every packet. So the bound is four
// times `timeout`, plus one second per 8 MiB that one statement reads before
// it answers (`bytes_before_answer`), a scan rate any server that is not
// stalled beats.
std::chrono::seconds DataReadTimeout(const Endpoint& server, uint64_t bytes_before_answer);

}  // namespace cutover::db
