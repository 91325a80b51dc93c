// The proxy: listener, event-loop workers and the control operations the
// admin API exposes (status, pause, resume, re-point).
//
// Control operations run on a control event loop of their own and reach the
// sessions by posting work to the sessions' workers, so the hot path needs no
// locks. A pause holds new transactions at the gate; it ends with Resume() or,
// at the latest, after max_pause, when the proxy resumes by itself on the
// primary it had. A re-point moves every session in two phases: every session
// first readies a connection to the target (its standby from Prepare, brought
// up to date, or a new one); only when all succeeded does the state file name
// the target and every session switch at once.
// Thread-safety: Start/Stop from one thread; control operations on control().
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proxy/asio_util.h"
#include "proxy/move_lease.h"
#include "proxy/proxy_config.h"
#include "proxy/worker.h"

namespace cutover::proxy {

struct SessionInfo {
  uint32_t id = 0;
  int worker = 0;
  std::string user;
  std::string client;   // "client 127.0.0.1:50412"
  std::string backend;  // "127.0.0.1:3306", empty before login
  bool in_transaction = false;
  bool busy = false;
  std::string busy_reason;
  uint32_t pins = 0;
  std::string pin_reasons;
  uint32_t backend_connection_id = 0;  // the server's id for the backend connection (its KILL target); 0: none
  bool idle_in_transaction = false;    // busy only because a transaction is open, no command in flight
  bool standby = false;                // holds a standby connection for the prepared move
};

struct ProxyStatus {
  HostPort primary;
  std::string server_version;
  bool paused = false;
  std::chrono::milliseconds paused_for{0};
  std::optional<HostPort> prepared;  // where standby connections are kept (POST /prepare)
  std::vector<SessionInfo> sessions;
  WorkerCounters totals;
};

struct PauseResult {
  bool drained = false;  // every session reached a transaction boundary
  std::chrono::microseconds waited{0};
  std::vector<SessionInfo> busy;  // sessions still busy when the drain timed out
};

enum class PinnedPolicy {
  kRefuse,  // refuse the re-point when any session is pinned
  kClose,   // move the others; pinned sessions get an error at their next command
};

struct PrepareResult {
  HostPort target;
  int warmed = 0;                    // sessions that hold a standby connection on target
  std::vector<std::string> failures;  // "session 12: ..." for those that could not open one
  std::chrono::microseconds took{0};
};

struct RepointResult {
  HostPort from;
  HostPort to;
  int moved = 0;
  std::vector<SessionInfo> closed;  // pinned sessions doomed under PinnedPolicy::kClose
  std::chrono::microseconds took{0};
};

class ProxyServer {
 public:
  explicit ProxyServer(ProxyConfig config);
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  // Restores the primary from the state file, binds the listener and starts
  // the threads. REQUIRES: not started.
  [[nodiscard]] Status Start();
  // Closes the listener and every session, and joins the threads.
  void Stop();

  const ProxyConfig& config() const { return config_; }
  uint16_t listen_port() const { return listen_port_; }
  asio::io_context& control() { return control_; }

  // The following run on control() only.
  awaitable<ProxyStatus> CollectStatus();
  // Lets the proxy end a move whose switchover stopped calling (see
  // move_lease.h). Without one, such a pause ends at max_pause on the primary
  // the proxy had. REQUIRES: called before Start().
  void SetMoveGuardian(std::shared_ptr<MoveGuardian> guardian) { guardian_ = std::move(guardian); }

  // Holds new transactions and waits until every session is at a transaction
  // boundary or drain_timeout passes. The pause lasts until Resume() or
  // max_pause. With `lease`, (re)starts the move's lease: when it runs out
  // while paused, the MoveGuardian ends the move.
  awaitable<PauseResult> Pause(std::chrono::milliseconds drain_timeout, std::optional<MoveLease> lease = std::nullopt);
  awaitable<void> Resume();
  // Opens, beside every session that can move, a standby connection on
  // `target` that mirrors its state, while clients go on undisturbed; a later
  // Repoint to `target` swaps them in and replays only what changed since.
  // Lasts until Unprepare() or a Repoint that commits.
  awaitable<PrepareResult> Prepare(HostPort target);
  // Closes the standby connections and forgets the prepared target.
  awaitable<void> Unprepare();
  // Moves every session to `target`. REQUIRES: paused, no session busy.
  // With `close_open_transactions`, sessions idle inside a transaction (whose
  // backend connection the switchover killed) are closed like pinned ones
  // instead of refusing the move.
  awaitable<Result<RepointResult>> Repoint(HostPort target, PinnedPolicy policy, bool close_open_transactions = false);

  // Reads the certificate, key and CA files again. New connections use them;
  // sessions keep the ones they started with. On a bad file the old ones stay
  // and the error says why. Returns the clients' certificate ("subject,
  // expires ..."), empty without TLS towards clients. Safe from any thread.
  [[nodiscard]] Result<std::string> ReloadTls();

 private:
  awaitable<void> AcceptLoop();
  // Every logged-in session, or only the busy and pinned ones.
  awaitable<std::vector<SessionInfo>> CollectSessions(bool only_unclean);
  void ArmMaxPause();
  // (Re)starts the lease timer of lease_. REQUIRES: lease_.
  void ArmLease();
  // Writes the primary and lease_ to the state file (when there is one); a
  // failure is logged: the pause or resume it follows stands.
  void PersistState(const HostPort& primary);
  // Acts on what the guardian decided for the pause `generation`.
  awaitable<void> AfterGuardian(MoveLease lease, Result<MoveOutcome> outcome, uint64_t generation);

  ProxyConfig config_;
  ProxyShared shared_;
  std::vector<std::unique_ptr<ProxyWorker>> workers_;
  asio::io_context control_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> control_work_;
  std::thread control_thread_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  uint16_t listen_port_ = 0;
  size_t next_worker_ = 0;

  // Control-loop state.
  std::chrono::steady_clock::time_point paused_at_;
  asio::steady_timer max_pause_timer_{control_};
  uint64_t pause_generation_ = 0;  // Which pause the max_pause timer belongs to.
  bool repointing_ = false;
  bool repoint_cancelled_ = false;  // Did max_pause end the pause mid re-point?
  std::optional<MoveLease> lease_;  // of the move in progress; cleared by Resume()
  bool lease_in_state_file_ = false;  // Does the state file hold a lease Resume() must clear?
  asio::steady_timer lease_timer_{control_};
  bool guardian_running_ = false;  // Is the guardian ending the move?

  std::shared_ptr<MoveGuardian> guardian_;  // set before Start(); may be null
  std::jthread guardian_thread_;            // runs guardian_->Finish(); joined by Stop()
};

}  // namespace cutover::proxy
