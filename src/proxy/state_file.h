// The proxy's persisted state: which server is the primary, and the lease of
// a move that holds clients paused right now (so that a proxy restarted in
// the middle of a move comes back paused and ends the move, instead of
// sending clients to a fenced old primary). Written atomically (temporary
// file, fsync, rename) so a crash leaves either the old or the new content,
// never a torn file.
// Thread-safety: free functions; callers serialise writes.
#pragma once

#include <optional>
#include <string>

#include "common/error.h"
#include "proxy/move_lease.h"
#include "proxy/proxy_config.h"

namespace cutover::proxy {

struct ProxyState {
  std::optional<HostPort> primary;  // none: the file does not exist yet
  std::optional<MoveLease> move;    // a move's lease while it pauses clients
};

// An empty state when the file does not exist; an error when it exists but
// cannot be read or parsed (the proxy must not guess its primary).
[[nodiscard]] Result<ProxyState> LoadProxyState(const std::string& path);
// REQUIRES: state.primary.
[[nodiscard]] Status SaveProxyState(const std::string& path, const ProxyState& state);

}  // namespace cutover::proxy
