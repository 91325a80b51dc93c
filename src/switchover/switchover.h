// `cutover switchover` and `cutover rollback`: move the primary role from one
// server to the other while clients, paused at the proxy, see a pause and
// never an error.
//
//   pre-checks -> catch-up gate (the target is close; nobody paused yet)
//   -> pause (drain) -> fence the old primary -> target catches up
//   -> promote (commit point) -> re-point sessions -> resume -> reverse
//   replication (the old primary follows the new one).
//
// Every step is saved in the state file before its side effect. A failure
// before the commit point undoes the move by itself (unfence, resume on the
// old primary). After it the move only goes forward; `Resume` finishes a move
// whose orchestrator died, `Abort` undoes one that had not reached the commit
// point. The old primary is fenced before the new one becomes writable, so
// there are never two writable primaries.
// Thread-safety: runs on the caller's thread; one move at a time (MoveLock).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "db/endpoint.h"
#include "switchover/move_state.h"
#include "switchover/proxy_admin.h"

namespace cutover::switchover {

// One of the two servers, as the config names it.
struct ServerRole {
  std::string role;      // "source" or "target"
  db::Endpoint admin;    // where cutover logs in to control it (and where the proxy sends clients)
  std::string repl_host; // how the OTHER server reaches this one when it replicates from it
  uint16_t repl_port = 0;
};

struct ProxyUserHash {
  std::string name;
  std::string hash;  // "*<40 hex>", as mysql.user stores it
};

struct SwitchoverOptions {
  ServerRole source;
  ServerRole target;
  std::string repl_user;
  std::string repl_password;
  ProxyAddress proxy;
  std::vector<ProxyUserHash> proxy_users;
  std::vector<db::Endpoint> replicas;       // other replicas: moved to follow the new primary
  std::string state_file;
  int64_t max_lag_seconds = 60;
  int64_t max_transaction_seconds = 10;     // an older open transaction on the primary refuses the move
  std::chrono::milliseconds drain_timeout{3000};
  std::chrono::milliseconds catchup_timeout{10000};  // never more than the max_pause budget allows
  // The pause budget, from the end of the drain: fence, catch-up, promote and
  // re-point. A catch-up that would outlast it (less a quarter kept for the
  // steps after it) undoes the move, and the move is tried again.
  std::chrono::milliseconds max_pause{500};
  // Before pausing anyone, the target must apply the primary's position of
  // a moment ago within gate_lag; waited for at most gate_timeout (0: no
  // gate, clients are paused at once).
  std::chrono::milliseconds gate_lag{100};
  std::chrono::milliseconds gate_timeout{60000};
  int attempts = 3;
  bool kill_open_transactions = false;      // at the drain timeout, kill instead of aborting
  bool close_pinned = false;                // close pinned sessions instead of refusing
};

struct SwitchoverReport {
  std::string from;
  std::string to;
  std::string final_gtid;
  std::vector<StepTiming> timeline;
  double client_pause_ms = 0;  // from pause to resume, as the proxy's clients saw it
};

class SwitchoverObserver {
 public:
  virtual ~SwitchoverObserver() = default;
  virtual void Step(std::string_view name, std::string_view detail) = 0;
};

// Moves the primary role to `to_role` ("target" for switchover, "source" for rollback).
[[nodiscard]] Result<SwitchoverReport> RunSwitchover(const SwitchoverOptions& options, std::string_view to_role,
                                                     SwitchoverObserver& observer);
// Finishes the move recorded in the state file.
[[nodiscard]] Result<SwitchoverReport> ResumeSwitchover(const SwitchoverOptions& options, SwitchoverObserver& observer);
// Undoes the move recorded in the state file; refused past the commit point.
[[nodiscard]] Status AbortSwitchover(const SwitchoverOptions& options, SwitchoverObserver& observer);
// Stops reverse replication on the old primary and releases it.
[[nodiscard]] Status FinishMove(const SwitchoverOptions& options, SwitchoverObserver& observer);

}  // namespace cutover::switchover
