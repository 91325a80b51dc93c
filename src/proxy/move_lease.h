// What a switchover tells the proxy when it pauses clients, so that the proxy
// can end the move itself when the switchover stops calling: its process
// died, hangs, or lost its network. See README.md, "Faults".
//
// The lease runs from the switchover's last call (POST /pause or /repoint).
// When it runs out while clients are paused, the proxy hands it to the
// MoveGuardian, which acts on the servers (blocking, on a thread of its own)
// and says where clients go: the move is completed when the new primary is
// already writable (the commit point was passed), undone otherwise.
// Thread-safety: MoveLease is a plain value; a MoveGuardian is called from one
// thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.h"
#include "proxy/proxy_config.h"

namespace cutover::proxy {

struct MoveLease {
  HostPort from;                             // the primary the move leaves
  HostPort to;                               // the one it makes primary
  bool from_was_read_only = false;           // what an undo restores on `from`
  std::vector<uint64_t> from_connection_ids;  // the switchover's own connections on `from`
  std::vector<uint64_t> to_connection_ids;    // ... and on `to`
  std::chrono::milliseconds duration{0};     // renewed by each call of the switchover
};

// {"host": string, "port": 1-65535}; kMalformed naming `path` otherwise.
[[nodiscard]] Result<HostPort> ParseHostPort(const nlohmann::json& value, std::string_view path);
// The lease as POST /pause's "move" member carries it, and the proxy's state
// file keeps it: {from, to, from_was_read_only, from_connection_ids,
// to_connection_ids, lease_ms}. kMalformed names the first bad member.
[[nodiscard]] Result<MoveLease> ParseMoveLease(const nlohmann::json& move);
nlohmann::json MoveLeaseJson(const MoveLease& lease);

enum class MoveOutcome {
  kUndone,     // `from` is the writable primary again: clients resume on it
  kCompleted,  // `to` is the writable primary: clients move to it
};

class MoveGuardian {
 public:
  virtual ~MoveGuardian() = default;
  // Ends the move the lease describes. First ends the switchover's own
  // connections (so that a switchover that was only stalled can change
  // nothing when it wakes up), then completes or undoes the move on the
  // servers. Blocks, for a bounded time.
  [[nodiscard]] virtual Result<MoveOutcome> Finish(const MoveLease& lease) = 0;
};

}  // namespace cutover::proxy
