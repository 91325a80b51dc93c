// How a proxy ends a move whose switchover stopped calling it (its process
// died, hangs, or lost its network; see proxy/move_lease.h and README.md,
// "Faults"). Blocking SQL on both servers, bounded by their
// timeouts.
// Thread-safety: none needed; each call opens its own connections.
#pragma once

#include <cstdint>
#include <vector>

#include "common/error.h"
#include "db/connection.h"
#include "db/endpoint.h"

namespace cutover::switchover {

struct AbandonedMove {
  db::Endpoint from;  // the primary the move leaves, as an admin
  db::Endpoint to;    // the one it makes primary, as an admin
  bool from_was_read_only = false;
  std::vector<uint64_t> from_connection_ids;  // the switchover's own connections
  std::vector<uint64_t> to_connection_ids;
};

enum class AbandonedMoveOutcome { kUndone, kCompleted };

// First ends the switchover's connections on `to` and waits until they are
// gone, so that a switchover that was only stalled cannot promote `to`
// afterwards. Then, if `to` is writable already (the move passed its commit
// point), the move is kept: kCompleted. Otherwise it is undone: the
// switchover's connections on `from` are ended (which lifts its BACKUP STAGE
// fence) and `from` gets back the read_only it had: kUndone. `to` stays a
// read-only replica of `from` (promotion does not stop its replication).
// Errors when `to` cannot be reached (nobody can tell then whether the move
// passed its commit point) or `from` cannot be unfenced.
[[nodiscard]] Result<AbandonedMoveOutcome> FinishAbandonedMove(const AbandonedMove& move);

// KILLs the connections `ids` on `conn`'s server and waits (up to 10 s) until
// the server has ended them: a statement one of them was running is then over,
// done or undone, and cannot take effect later.
[[nodiscard]] Status EndConnections(db::Connection& conn, const std::vector<uint64_t>& ids);

}  // namespace cutover::switchover
