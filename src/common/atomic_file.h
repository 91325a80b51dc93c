// Small files that must never be seen half-written: state files.
// Thread-safety: free functions on the file system.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace cutover {

// Writes `text` to `path` through a temporary file, fsync and rename: a reader
// sees the old content or the new one, never a mix, even after a crash.
[[nodiscard]] Status WriteFileAtomically(const std::string& path, std::string_view text);

// The file's content, or std::nullopt when it does not exist.
[[nodiscard]] Result<std::optional<std::string>> ReadFileIfExists(const std::string& path);

}  // namespace cutover
