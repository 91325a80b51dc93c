// One move of the primary role, step by step (switchover.h describes the
// steps): the steps forward in move.cpp, the undo of a move that did not reach
// its commit point in move_undo.cpp. Internal to switchover/: RunSwitchover,
// ResumeSwitchover and AbortSwitchover drive it.
// Thread-safety: one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "db/connection.h"
#include "switchover/move_state.h"
#include "switchover/proxy_admin.h"
#include "switchover/switchover.h"

namespace cutover::switchover {

// Every statement of a move is short (server-side waits are bounded by
// lock_wait_timeout 5 s and 500 ms MASTER_GTID_WAIT slices), and some run
// while clients are paused: a server that does not answer within 10 s is
// stalled, whatever the longer timeout_s of clone and verify.
inline constexpr std::chrono::seconds kMoveStatementTimeout{10};

// A session on `r`'s server with the move's timeouts.
[[nodiscard]] Result<db::Connection> ConnectRole(const ServerRole& r);

// One move from `from` to `to`, each step saved before it acts.
class Move {
 public:
  using Clock = std::chrono::steady_clock;

  Move(const SwitchoverOptions& options, SwitchoverObserver& observer, MoveState state);

  [[nodiscard]] Status Connect();

  // Also records the old primary's read_only as it is before the move
  // changes it (saved with the first step): what an undo restores, even for a
  // move resumed after the fence had set it.
  [[nodiscard]] Status Precheck();

  // Sessions open their connections to the target now, while clients go on,
  // so that the pause does not grow with their number. Sessions that could
  // not open one get it inside the pause, as without this step.
  [[nodiscard]] Status PrepareProxy();

  // Closes the standby connections of a move that did not happen. Best effort.
  void UnprepareProxy();

  // Clients are paused only for a target that is provably close: it applies
  // the primary's position of the moment within gate_lag. Changes nothing.
  [[nodiscard]] Status CatchUpGate();

  // Did the last Forward() undo the move because catch-up would have outlasted
  // the pause budget? Then it may be tried again.
  bool over_budget() const { return over_budget_; }

  // Makes a move that was undone ready to run again from the pause.
  void Restart();

  // Runs every step from `first` on. Before the commit point a failure undoes
  // the move; after it, the state file keeps the step for --resume.
  [[nodiscard]] Result<SwitchoverReport> Forward(Step first);

  // Puts everything back as it was before the move. Returns the problems met
  // on the way (empty when the undo is clean).
  // REQUIRES: !Committed().
  std::vector<std::string> Undo();

  // The error of a move that rolled back: its cause, then each problem of the undo.
  Error Explain(const Error& cause, const std::vector<std::string>& problems) const;

  // Has the new primary become writable (in this run or an earlier one)?
  bool Committed() const { return promoted_ || state_.primary == to_.role; }

  // Asks the new primary itself, for a move whose orchestrator died
  // mid-promotion. Pre-checks require it read-only before the move, so
  // writable means promoted.
  [[nodiscard]] Result<bool> TargetWritable();

  const MoveState& state() const { return state_; }

 private:
  [[nodiscard]] Status Save(Step step);

  [[nodiscard]] Status Timed(const char* name, const std::function<Status()>& run);

  [[nodiscard]] Status Pause();

  // What the proxy needs to end this move itself if this process stops
  // calling it (proxy/move_lease.h): renewed by every pause and re-point call,
  // it outlasts the longest quiet stretch of a live move (fence, catch-up and
  // promotion fit in max_pause) by kLeaseMargin.
  static constexpr std::chrono::milliseconds kLeaseMargin{1000};

  nlohmann::json Lease() const;

  // `e`, saying so when the lease at the proxy was not renewed for longer
  // than it lasts (this process or the proxy stalled, or the network between
  // them): the proxy may have ended the move itself and killed this process's
  // sessions, which is then why `e` happened.
  Error LeaseContext(const Error& e) const;

  // The proxy's own backend connections on the old primary: drained, never
  // killed by the fence (InnoDB's transaction list can lag by 100 ms and
  // still show a transaction that has just committed).
  [[nodiscard]] Result<std::vector<uint64_t>> ProxyBackendIds();

  // Stops every commit on the old primary, including privileged users', then
  // reads its final position.
  [[nodiscard]] Status Fence();

  // Lifts the fence and gives the old primary back its read_only of before the move.
  [[nodiscard]] Status Unfence();

  // A new session on `role`'s server, once the sessions `lost` are gone
  // there: a lost session's last statement may still be waiting on the
  // server and would otherwise take effect after whatever this one does.
  [[nodiscard]] Result<db::Connection> SessionEnding(const ServerRole& role, const std::vector<uint64_t>& lost);

  // Waits for the new primary to apply the final position, then reads its
  // clock for the promotion's deadline.
  [[nodiscard]] Status CatchUp();

  [[nodiscard]] Status WaitForFinalGtid();

  // Makes the new primary writable. Its replication threads are left running
  // until reverse replication is set up: the old primary, blocked by the
  // fence, sends nothing more, and stopping them here would lengthen the pause.
  //
  // The statement carries a deadline on the new primary's own clock, half
  // this session's read timeout after the reading that ended catch-up. A server
  // that stalls with it unread (SIGSTOP, a network that drops packets) and
  // wakes after this process gave up and rolled back would otherwise become
  // writable behind the rollback: past the deadline it fails and changes
  // nothing. (MariaDB's anonymous compound statement; like the fence's
  // BACKUP STAGE, MySQL has no equivalent.)
  [[nodiscard]] Status Promote();

  // The new primary's clock as UNIX_TIMESTAMP(SYSDATE(6)) prints it.
  [[nodiscard]] Status ReadTargetClock();

  // Undo of a promotion that stopped half-way: the new primary replicates again.
  // It restarts from what it applied itself, never from the final position
  // (which a target stopped early has not reached). A promotion whose answer
  // was lost may have taken effect: the new primary is made read-only again
  // first, over a new session when the old one is gone.
  [[nodiscard]] Status RestoreReplica();

  // Calls the proxy, again every 100 ms while it fails, for as long as its
  // lease lasts: a proxy restarted by its supervisor comes back paused with
  // the lease (its state file keeps it) and takes the call; after the lease
  // it ends the move itself.
  [[nodiscard]] Result<nlohmann::json> CallProxy(const std::function<Result<nlohmann::json>()>& call);

  [[nodiscard]] Status Repoint();

  [[nodiscard]] Status Resume();

  // The old primary follows the new one, so that a rollback loses nothing. It
  // applies with as many parallel threads as the new primary did as a replica
  // (the clone's --replica-threads): single-threaded, it would fall behind the
  // full load and make the rollback wait.
  [[nodiscard]] Status ReverseReplication();

  // The new primary's slave_parallel_threads, the setting it replicated with.
  [[nodiscard]] Result<int> ParallelThreads();

  // Other replicas that followed the old primary follow the new one, from
  // where they are (GTID): the new primary's binary log has everything the
  // old one had.
  [[nodiscard]] Status Cascade();

  // Events were created DISABLE ON SLAVE on the replica. Enabling them on the
  // new primary is replicated, and the old primary marks them
  // SLAVESIDE_DISABLED in turn, so they run in one place only.
  [[nodiscard]] Status EnableEvents();

  const SwitchoverOptions& options_;
  SwitchoverObserver& observer_;
  MoveState state_;
  const ServerRole& from_;
  const ServerRole& to_;
  ProxyAdmin proxy_;
  std::optional<db::Connection> from_conn_;
  std::optional<db::Connection> fence_conn_;  // on the old primary, holds the BACKUP STAGE locks
  std::vector<uint64_t> own_ids_on_from_;     // the server's ids of from_conn_ and fence_conn_
  std::optional<Clock::time_point> lease_renewed_;  // the last call that renewed the proxy's lease
  std::optional<db::Connection> to_conn_;
  Clock::time_point pause_start_ = Clock::now();
  Clock::time_point drain_end_ = Clock::now();  // when every session reached a transaction boundary
  double client_pause_ms_ = 0;
  std::string target_clock_;  // the new primary's clock when catch-up ended, for the promotion's deadline
  bool promoted_ = false;  // the new primary became writable in this run
  bool over_budget_ = false;  // catch-up would have outlasted the pause budget
  bool close_open_transactions_ = false;  // their transactions were killed: close those sessions
  std::string detail_;     // extra words for the current step's line
};

}  // namespace cutover::switchover
