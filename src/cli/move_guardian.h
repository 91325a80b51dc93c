// The proxy's MoveGuardian (proxy/move_lease.h) for a cutover.toml: it ends an
// abandoned move with the [source] and [target] admin accounts, whichever of
// the two the move's lease names as `from` and `to`.
// Thread-safety: Finish() is called from one thread at a time.
#pragma once

#include <memory>

#include "cli/config.h"
#include "proxy/move_lease.h"

namespace cutover::cli {

// nullptr when the config lacks [source] or [target]: the proxy then cannot
// end a move by itself, and says so when a lease runs out.
std::shared_ptr<proxy::MoveGuardian> MakeMoveGuardian(const Config& config);

}  // namespace cutover::cli
