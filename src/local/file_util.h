// Small file helpers shared by the local server code: temporary directories
// and the tail of a log file for error messages.
// Thread-safety: free functions on the file system; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace cutover::local {

// $TMPDIR when set, else "/tmp".
std::string TempBaseDir();

// Creates a fresh directory "<TempBaseDir()>/<prefix>XXXXXX" (mode 0700) and returns its path.
[[nodiscard]] Result<std::string> MakeTempDir(std::string_view prefix);

// `s` with every character outside [A-Za-z0-9._+-] replaced by '_', for use in a file name.
std::string SafeFileName(std::string_view s);

// Size of the file in bytes, 0 when it does not exist.
uint64_t FileSize(const std::string& path);

// The last `max_lines` lines of the file, reading from byte `offset` on
// (so that a restarted server's tail does not repeat its previous run).
// Empty when the file does not exist.
std::string TailOfFile(const std::string& path, uint64_t offset = 0, size_t max_lines = 20);

// Writes `contents` to `path` with mode 0600, replacing it.
[[nodiscard]] Status WritePrivateFile(const std::string& path, std::string_view contents);

}  // namespace cutover::local
