// The installed MariaDB binaries, and a datadir initialised once per machine
// that every local server starts from a copy of.
//
// mariadb-install-db takes about a second (more on a loaded machine); copying
// its result takes tens of milliseconds. The template lives at
// "<TMPDIR>/cutover-template-v1-<mariadbd version>-<uid>", is built under an
// flock so that parallel test processes build it once, and appears atomically
// (built in a temporary directory, then renamed).
// Thread-safety: all functions may be called from any thread and process.
#pragma once

#include <string>

#include "common/error.h"

namespace cutover::local {

struct MariadbBinaries {
  std::string mariadbd;    // e.g. /usr/sbin/mariadbd ($CUTOVER_MARIADBD overrides)
  std::string install_db;  // e.g. /usr/bin/mariadb-install-db ($CUTOVER_MARIADB_INSTALL_DB overrides)
  std::string version;     // from `mariadbd --version`, e.g. "10.11.19-MariaDB-0+deb12u1"
};

// Finds the binaries and reads the server's version; the answer is cached.
// kIo, naming the paths searched and the package to install, when one is missing.
[[nodiscard]] Result<MariadbBinaries> FindMariadbBinaries();

// Returns the template datadir's path, building it first when it does not exist.
[[nodiscard]] Result<std::string> EnsureDatadirTemplate(const MariadbBinaries& binaries);

// Copies a datadir (recursively, keeping permissions).
// REQUIRES: `to` does not exist.
[[nodiscard]] Status CopyDatadir(const std::string& from, const std::string& to);

}  // namespace cutover::local
