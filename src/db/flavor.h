// Which server product and version a connection talks to, parsed from the
// version string (the greeting's server version or SELECT VERSION()).
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace cutover::db {

class Connection;

enum class Flavor { kMariaDB, kMySQL };

std::string_view FlavorName(Flavor flavor);  // "MariaDB" or "MySQL"

struct ServerVersion {
  Flavor flavor = Flavor::kMySQL;
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string raw;  // the string as the server sent it

  // True when this version is major.minor.patch or newer.
  bool AtLeast(int at_major, int at_minor, int at_patch = 0) const;
};

// Accepts "10.11.19-MariaDB-0+deb12u1", "5.5.5-10.11.6-MariaDB-log" (the
// replication-compatibility prefix older MariaDB puts in its greeting),
// "8.0.36" and "8.0.36-log". kMalformed when no "major.minor.patch" leads it.
[[nodiscard]] Result<ServerVersion> ParseServerVersion(std::string_view version_string);

// The version of the server `connection` is logged in to, from its greeting.
[[nodiscard]] Result<ServerVersion> GetServerVersion(const Connection& connection);

}  // namespace cutover::db
