// The proxy's persisted state: which server is the primary. Written
// atomically (temporary file, fsync, rename) so a crash leaves either the old
// or the new content, never a torn file.
// Thread-safety: free functions; callers serialise writes.
#pragma once

#include <optional>
#include <string>

#include "common/error.h"
#include "proxy/proxy_config.h"

namespace cutover::proxy {

// Returns nullopt when the file does not exist; an error when it exists but
// cannot be read or parsed (the proxy must not guess its primary).
[[nodiscard]] Result<std::optional<HostPort>> LoadPrimary(const std::string& path);
[[nodiscard]] Status SavePrimary(const std::string& path, const HostPort& primary);

}  // namespace cutover::proxy
