#include "switchover/switchover.h"

#include <algorithm>
#include <ctime>
#include <functional>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "db/connection.h"
#include "replication/replica.h"
#include "switchover/abandoned_move.h"
#include "switchover/prechecks.h"

namespace cutover::switchover {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

const ServerRole& Role(const SwitchoverOptions& o, std::string_view name) {
  return name == "source" ? o.source : o.target;
}

// Every statement of a move is short (server-side waits are bounded by
// lock_wait_timeout 5 s and 500 ms MASTER_GTID_WAIT slices), and some run
// while clients are paused: a server that does not answer within 10 s is
// stalled, whatever the longer timeout_s of clone and verify.
constexpr std::chrono::seconds kMoveStatementTimeout{10};

Result<db::Connection> ConnectRole(const ServerRole& r) {
  db::ConnectOptions options;
  options.read_timeout = std::min(r.admin.timeout, kMoveStatementTimeout);
  options.write_timeout = options.read_timeout;
  options.connect_timeout = std::min(options.connect_timeout, options.read_timeout);
  auto conn = db::Connection::Connect(r.admin, options);
  if (!conn) return Fail(conn.error().WithContext(fmt::format("cannot log in to the {} ([{}])", r.role, r.role)));
  return conn;
}

// One move from `from` to `to`, step by step, each saved before it acts.
class Move {
 public:
  Move(const SwitchoverOptions& options, SwitchoverObserver& observer, MoveState state)
      : options_(options),
        observer_(observer),
        state_(std::move(state)),
        from_(Role(options, state_.from)),
        to_(Role(options, state_.to)),
        proxy_(options.proxy) {}

  Status Connect() {
    auto f = ConnectRole(from_);
    if (!f) return Fail(f.error());
    auto t = ConnectRole(to_);
    if (!t) return Fail(t.error());
    auto fence = ConnectRole(from_);
    if (!fence) return Fail(fence.error());
    from_conn_.emplace(std::move(*f));
    to_conn_.emplace(std::move(*t));
    fence_conn_.emplace(std::move(*fence));
    own_ids_on_from_ = {from_conn_->thread_id(), fence_conn_->thread_id()};
    return {};
  }

  // Also records the old primary's read_only as it is before the move
  // changes it (saved with the first step): what an undo restores, even for a
  // move resumed after the fence had set it.
  Status Precheck() {
    return Timed("pre-checks", [&]() -> Status {
      if (Status st = CheckBeforeMove(options_, from_, to_, *from_conn_, *to_conn_, proxy_); !st) return st;
      auto ro = from_conn_->QueryValue("SELECT @@GLOBAL.read_only");
      if (!ro) return Fail(ro.error());
      state_.from_was_read_only = ro->value_or("0") == "1";
      return {};
    });
  }

  // Sessions open their connections to the target now, while clients go on,
  // so that the pause does not grow with their number. Sessions that could
  // not open one get it inside the pause, as without this step.
  Status PrepareProxy() {
    return Timed("prepare", [&]() -> Status {
      auto r = proxy_.Prepare(to_.admin.host, to_.admin.port);
      if (!r) {
        observer_.Step("warning", fmt::format("the proxy could not prepare standby connections ({}); the re-point will open "
                                      "them inside the pause",
                                      r.error().message()));
        return {};
      }
      detail_ = fmt::format("{} session(s) hold a standby connection to the {}", (*r)["warmed"].get<int>(), to_.role);
      if (const int failed = (*r)["failed"].get<int>(); failed > 0) {
        observer_.Step("warning", fmt::format("{} session(s) could not open a standby connection, e.g. {}; they get one "
                                      "inside the pause",
                                      failed, (*r)["failures"][0].get<std::string>()));
      }
      return {};
    });
  }

  // Closes the standby connections of a move that did not happen. Best effort.
  void UnprepareProxy() {
    if (auto r = proxy_.Unprepare(); !r) {
      observer_.Step("warning", fmt::format("the proxy kept its standby connections: {}", r.error().message()));
    }
  }

  // Clients are paused only for a target that is provably close: it applies
  // the primary's position of the moment within gate_lag. Changes nothing.
  Status CatchUpGate() {
    return Timed("catch-up gate", [&]() -> Status {
      if (options_.gate_timeout.count() == 0) {
        detail_ = "skipped (gate_timeout_ms = 0)";
        return {};
      }
      const auto deadline = Clock::now() + options_.gate_timeout;
      for (int round = 1;; ++round) {
        auto gtid = replication::ReadBinlogGtid(*from_conn_);
        if (!gtid) return Fail(gtid.error());
        const auto asked = Clock::now();
        const auto left = std::max(std::chrono::milliseconds(0),
                                   std::chrono::duration_cast<std::chrono::milliseconds>(deadline - asked));
        Status st = replication::WaitForGtid(*to_conn_, *gtid, left);
        if (!st && st.error().code() == ErrorCode::kTimeout) {
          return Fail(Error::Timeout(fmt::format(
              "{} has not caught up with the primary within gate_timeout_ms ({} ms); no client was paused and nothing "
              "changed. See cutover replication status, then retry",
              to_conn_->where(), options_.gate_timeout.count())));
        }
        if (!st) return st;
        const double took = MsSince(asked);
        if (took <= static_cast<double>(options_.gate_lag.count())) {
          detail_ = fmt::format("the target applies the primary's position within {:.1f} ms ({} round(s))", took, round);
          return {};
        }
        observer_.Step("catch-up gate", fmt::format("the target was {:.0f} ms behind the primary; waiting until it is "
                                                    "within {} ms (no client is paused)",
                                                    took, options_.gate_lag.count()));
      }
    });
  }

  // Did the last Forward() undo the move because catch-up would have outlasted
  // the pause budget? Then it may be tried again.
  bool over_budget() const { return over_budget_; }

  // Makes a move that was undone ready to run again from the pause.
  void Restart() {
    over_budget_ = false;
    state_.in_progress = true;
    state_.final_gtid.clear();
  }

  // Runs every step from `first` on. Before the commit point a failure undoes
  // the move; after it, the state file keeps the step for --resume.
  Result<SwitchoverReport> Forward(Step first) {
    struct Action {
      Step step;
      const char* name;
      Status (Move::*run)();
    };
    const Action actions[] = {{Step::kPause, "pause", &Move::Pause},
                              {Step::kFence, "fence", &Move::Fence},
                              {Step::kCatchUp, "catch-up", &Move::CatchUp},
                              {Step::kPromote, "promote", &Move::Promote},
                              {Step::kRepoint, "repoint", &Move::Repoint},
                              {Step::kResume, "resume", &Move::Resume},
                              {Step::kReverseReplication, "reverse-replication", &Move::ReverseReplication},
                              {Step::kCascade, "cascade", &Move::Cascade}};
    for (const Action& a : actions) {
      if (a.step < first) continue;
      if (Status st = Save(a.step); !st) return Fail(st.error());
      Status st = Timed(a.name, [&] { return (this->*a.run)(); });
      if (st) continue;
      // Until the new primary is writable, failing means going back.
      if (!Committed()) {
        const Error cause = LeaseContext(st.error());  // before Undo() calls the proxy again
        return Fail(Explain(cause, Undo()));
      }
      return Fail(LeaseContext(st.error()).WithContext(fmt::format(
          "the move is past its commit point ({} is the primary) and stopped at step {}; fix the cause and run "
          "cutover switchover --resume",
          to_.role, a.name)));
    }
    state_.in_progress = false;
    state_.step = Step::kDone;
    if (Status st = SaveMoveState(options_.state_file, state_); !st) return Fail(st.error());
    SwitchoverReport report{state_.from, state_.to, state_.final_gtid, state_.timeline, client_pause_ms_};
    return report;
  }

  // Puts everything back as it was before the move. Returns the problems met
  // on the way (empty when the undo is clean).
  // REQUIRES: !Committed().
  std::vector<std::string> Undo() {
    std::vector<std::string> problems;
    if (state_.step >= Step::kFence) {
      if (Status st = Unfence(); !st) problems.push_back(st.error().message());
    }
    // Clients resume on the old primary before the new one is put back: a
    // stalled new primary must not hold them.
    if (state_.step >= Step::kPause) {
      if (auto r = CallProxy([&] { return proxy_.Resume(); }); !r) problems.push_back(r.error().message());
    }
    if (state_.step >= Step::kCatchUp) {
      if (Status st = RestoreReplica(); !st) problems.push_back(st.error().message());
    }
    state_.in_progress = false;
    if (Status st = SaveMoveState(options_.state_file, state_); !st) problems.push_back(st.error().message());
    observer_.Step("rolled back", fmt::format("{} is still the primary; clients resumed on it", from_.role));
    return problems;
  }

  Error Explain(const Error& cause, const std::vector<std::string>& problems) const {
    std::string message = fmt::format("switchover rolled back, {} is still the primary: {}", from_.role, cause.message());
    for (const auto& p : problems) message += "\n  while rolling back: " + p;
    return Error(cause.code(), message);
  }

  // Has the new primary become writable (in this run or an earlier one)?
  bool Committed() const { return promoted_ || state_.primary == to_.role; }

  // Asks the new primary itself, for a move whose orchestrator died
  // mid-promotion. Pre-checks require it read-only before the move, so
  // writable means promoted.
  Result<bool> TargetWritable() {
    auto ro = to_conn_->QueryValue("SELECT @@GLOBAL.read_only");
    if (!ro) return Fail(ro.error());
    return *ro == "0";
  }

  const MoveState& state() const { return state_; }

 private:
  Status Save(Step step) {
    state_.step = step;
    return SaveMoveState(options_.state_file, state_);
  }

  Status Timed(const char* name, const std::function<Status()>& run) {
    const auto start = Clock::now();
    Status st = run();
    const double ms = MsSince(start);
    state_.timeline.push_back({name, ms});
    observer_.Step(name, st ? fmt::format("{:.1f} ms{}", ms, detail_.empty() ? "" : ", " + detail_)
                            : fmt::format("failed after {:.1f} ms", ms));
    detail_.clear();
    return st;
  }

  Status Pause() {
    // The slow stages of the fence (closing tables, waiting out DDL) run while
    // clients still work; the fence itself then only blocks commits.
    for (const char* sql : {"SET SESSION lock_wait_timeout = 5", "BACKUP STAGE START", "BACKUP STAGE FLUSH",
                            "BACKUP STAGE BLOCK_DDL"}) {
      if (Status st = fence_conn_->Execute(sql); !st) {
        constexpr uint16_t kErrSpecificAccessDenied = 1227;  // a privilege is missing
        const bool denied = st.error().server_errno() == kErrSpecificAccessDenied;
        return Fail(st.error().WithContext(
            fmt::format("preparing the fence on the old primary ({}{})", sql, denied ? "; needs RELOAD" : "")));
      }
    }
    pause_start_ = Clock::now();
    drain_end_ = pause_start_;
    lease_renewed_ = Clock::now();
    auto r = proxy_.Pause(options_.drain_timeout, Lease());
    if (!r) return Fail(r.error());
    if (!(*r)["drained"].get<bool>() && options_.kill_open_transactions) {
      // Their transactions die with their connections on the old primary; the
      // proxy closes those sessions with an error at the re-point.
      const uint64_t fence_id = fence_conn_->thread_id();
      auto killed = KillOpenTransactions(*from_conn_, [fence_id]() -> Result<std::vector<uint64_t>> {
        return std::vector<uint64_t>{fence_id};
      });
      if (!killed) return Fail(killed.error());
      detail_ = fmt::format("killed {} open transaction(s)", killed->size());
      close_open_transactions_ = true;
      lease_renewed_ = Clock::now();
      r = proxy_.Pause(std::chrono::milliseconds(500), Lease());
      if (!r) return Fail(r.error());
    }
    std::string busy;
    for (const auto& s : (*r)["busy"]) {
      if (close_open_transactions_ && s.value("idle_in_transaction", false)) continue;
      busy += fmt::format("{}session {} ({} from {}): {}", busy.empty() ? "" : "; ", s["id"].get<int>(),
                          s["user"].get<std::string>(), s["client"].get<std::string>(),
                          s["busy_reason"].get<std::string>());
    }
    if (!busy.empty()) {
      return Fail(Error::Timeout(fmt::format(
          "sessions still inside a transaction after the {} ms drain: {}; retry, or pass --kill-open-transactions",
          options_.drain_timeout.count(), busy)));
    }
    drain_end_ = Clock::now();
    return {};
  }

  // What the proxy needs to end this move itself if this process stops
  // calling it (proxy/move_lease.h): renewed by every pause and re-point call,
  // it outlasts the longest quiet stretch of a live move (fence, catch-up and
  // promotion fit in max_pause) by kLeaseMargin.
  static constexpr std::chrono::milliseconds kLeaseMargin{1000};
  nlohmann::json Lease() const {
    return {{"from", {{"host", from_.admin.host}, {"port", from_.admin.port}}},
            {"to", {{"host", to_.admin.host}, {"port", to_.admin.port}}},
            {"from_was_read_only", state_.from_was_read_only},
            {"from_connection_ids", own_ids_on_from_},
            {"to_connection_ids", {to_conn_->thread_id()}},
            {"lease_ms", (options_.max_pause + kLeaseMargin).count()}};
  }

  // `e`, saying so when the lease at the proxy was not renewed for longer
  // than it lasts (this process or the proxy stalled, or the network between
  // them): the proxy may have ended the move itself and killed this process's
  // sessions, which is then why `e` happened.
  Error LeaseContext(const Error& e) const {
    if (!lease_renewed_ || Clock::now() - *lease_renewed_ <= options_.max_pause + kLeaseMargin) return e;
    return e.WithContext(fmt::format(
        "{:.0f} ms passed since this switchover last renewed its lease at the proxy, longer than the lease ({} ms; "
        "this process or the proxy stalled, or the network between them): the proxy may have ended the move itself "
        "(see its log)",
        MsSince(*lease_renewed_), (options_.max_pause + kLeaseMargin).count()));
  }

  // The proxy's own backend connections on the old primary: drained, never
  // killed by the fence (InnoDB's transaction list can lag by 100 ms and
  // still show a transaction that has just committed).
  Result<std::vector<uint64_t>> ProxyBackendIds() {
    auto status = proxy_.Status();
    if (!status) return Fail(status.error());
    std::vector<uint64_t> ids = {fence_conn_->thread_id()};
    for (const auto& s : (*status)["sessions"]) ids.push_back(s.value("backend_connection_id", uint64_t{0}));
    return ids;
  }

  // Stops every commit on the old primary, including privileged users', then
  // reads its final position.
  Status Fence() {
    // Connections that still hold a transaction are not the (drained) proxy's:
    // they bypass it. Kill them so read_only does not wait on them.
    auto killed = KillOpenTransactions(*from_conn_, [this] { return ProxyBackendIds(); });
    if (!killed) return Fail(killed.error());
    // Two sessions: a session holding a backup stage may not change read_only.
    if (Status st = from_conn_->Execute("SET GLOBAL read_only = ON"); !st) {
      return Fail(st.error().WithContext("fencing the old primary (read_only)"));
    }
    // read_only does not stop READ_ONLY ADMIN holders; this stops every commit.
    if (Status st = fence_conn_->Execute("BACKUP STAGE BLOCK_COMMIT"); !st) {
      return Fail(st.error().WithContext("fencing the old primary (BACKUP STAGE BLOCK_COMMIT)"));
    }
    std::string writers;
    for (const std::string& k : *killed) writers += (writers.empty() ? "" : ", ") + k;
    if (Committed() && !state_.final_gtid.empty()) {
      // A resumed move past its commit point: the old primary may follow the
      // new one already, so its position now holds the new primary's own
      // transactions. The recorded final position stands.
      detail_ = fmt::format("final GTID '{}' (recorded){}", state_.final_gtid, writers.empty() ? "" : ", killed " + writers);
      return {};
    }
    auto gtid = replication::ReadBinlogGtid(*from_conn_);
    if (!gtid) return Fail(gtid.error());
    state_.final_gtid = *gtid;
    detail_ = fmt::format("final GTID '{}'{}", *gtid, writers.empty() ? "" : ", killed " + writers);
    return SaveMoveState(options_.state_file, state_);
  }

  Status Unfence() {
    (void)fence_conn_->Execute("BACKUP STAGE END");  // fails harmlessly when no stage is held
    const std::string sql = fmt::format("SET GLOBAL read_only = {}", state_.from_was_read_only ? "ON" : "OFF");
    Status st = from_conn_->Execute(sql);
    if (st || st.error().code() != ErrorCode::kIo) return st;
    // Lost, or timed out: its last statement (SET GLOBAL read_only = ON) may
    // still be waiting on the server and take effect after this undo. End
    // both sessions first (the fence's stage ends with its session).
    auto fresh = SessionEnding(from_, own_ids_on_from_);
    if (!fresh) return Fail(fresh.error());
    return fresh->Execute(sql);
  }

  // A new session on `role`'s server, once the sessions `lost` are gone
  // there: a lost session's last statement may still be waiting on the
  // server and would otherwise take effect after whatever this one does.
  Result<db::Connection> SessionEnding(const ServerRole& role, const std::vector<uint64_t>& lost) {
    auto fresh = ConnectRole(role);
    if (!fresh) return Fail(fresh.error());
    if (Status ended = EndConnections(*fresh, lost); !ended) return Fail(ended.error());
    return fresh;
  }

  // Waits for the new primary to apply the final position, then reads its
  // clock for the promotion's deadline.
  Status CatchUp() {
    if (Status st = WaitForFinalGtid(); !st) return st;
    return ReadTargetClock();
  }

  Status WaitForFinalGtid() {
    // Already there? Then how its replication stands does not matter: a
    // promotion cut short by a dead orchestrator (or a target killed between
    // STOP SLAVE and RESET SLAVE ALL) left it stopped or unconfigured.
    auto reached = replication::HasApplied(*to_conn_, state_.final_gtid);
    if (!reached) return Fail(reached.error());
    if (*reached) return {};
    auto status = replication::ReadReplicaStatus(*to_conn_);
    if (!status) return Fail(status.error());
    if (!status->configured) {
      return Fail(Error::Precondition(fmt::format("{} no longer replicates and lacks the final GTID {}",
                                                  to_conn_->where(), state_.final_gtid)));
    }
    // The pause budget runs from the end of the drain; a quarter of it is kept
    // for promoting, re-pointing and resuming.
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - drain_end_);
    const auto budget = std::max(std::chrono::milliseconds(0), options_.max_pause - options_.max_pause / 4 - spent);
    const auto timeout = std::min(budget, options_.catchup_timeout);
    Status st = replication::WaitForGtid(*to_conn_, state_.final_gtid, timeout);
    if (st || st.error().code() != ErrorCode::kTimeout) return st;
    over_budget_ = timeout == budget;
    return Fail(Error::Timeout(fmt::format(
        "{} had not applied the final GTID '{}' after {} ms{}", to_conn_->where(), state_.final_gtid, timeout.count(),
        over_budget_ ? fmt::format(", the part of the pause budget (max_pause_ms {}) left for it",
                                   options_.max_pause.count())
                     : " (catchup_timeout_ms)")));
  }

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
  Status Promote() {
    if (target_clock_.empty()) {  // a move resumed at this step
      if (Status st = ReadTargetClock(); !st) return st;
    }
    const auto window =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::min(to_.admin.timeout, kMoveStatementTimeout)) / 2;
    const std::string sql = fmt::format(
        "BEGIN NOT ATOMIC IF UNIX_TIMESTAMP(SYSDATE(6)) <= {} + {:.3f} THEN SET GLOBAL read_only = OFF; ELSE SIGNAL "
        "SQLSTATE '45000' SET MESSAGE_TEXT = 'cutover: the promotion reached this server after its deadline ({} ms); "
        "read_only stays ON'; END IF; END",
        target_clock_, window.count() / 1000.0, window.count());
    if (Status st = to_conn_->Execute(sql); !st) return st;
    promoted_ = true;
    state_.primary = to_.role;
    return SaveMoveState(options_.state_file, state_);
  }

  // The new primary's clock as UNIX_TIMESTAMP(SYSDATE(6)) prints it.
  Status ReadTargetClock() {
    auto now = to_conn_->QueryValue("SELECT UNIX_TIMESTAMP(SYSDATE(6))");
    if (!now) return Fail(now.error());
    const std::string reading = now->value_or("");
    if (reading.empty() || reading.find_first_not_of("0123456789.") != std::string::npos) {
      return Fail(Error::Malformed(fmt::format("{} answered its clock reading with '{}'", to_conn_->where(), reading)));
    }
    target_clock_ = reading;
    return {};
  }

  // Undo of a promotion that stopped half-way: the new primary replicates again.
  // It restarts from what it applied itself, never from the final position
  // (which a target stopped early has not reached). A promotion whose answer
  // was lost may have taken effect: the new primary is made read-only again
  // first, over a new session when the old one is gone.
  Status RestoreReplica() {
    Status read_only = to_conn_->Execute("SET GLOBAL read_only = ON");
    if (!read_only && read_only.error().code() == ErrorCode::kIo) {
      auto fresh = SessionEnding(to_, {to_conn_->thread_id()});
      if (!fresh) return Fail(fresh.error());
      to_conn_.emplace(std::move(*fresh));
      read_only = to_conn_->Execute("SET GLOBAL read_only = ON");
    }
    if (!read_only) return read_only;
    auto status = replication::ReadReplicaStatus(*to_conn_);
    if (!status) return Fail(status.error());
    if (status->running()) return {};
    replication::SourceAddress from_addr{from_.repl_host, from_.repl_port, options_.repl_user, options_.repl_password};
    auto applied = replication::ReadAppliedGtid(*to_conn_);
    if (!applied) return Fail(applied.error());
    if (Status st = replication::StopAndForgetReplica(*to_conn_); !st) return st;
    return replication::StartReplica(*to_conn_, from_addr, *applied);
  }

  // Calls the proxy, again every 100 ms while it fails, for as long as its
  // lease lasts: a proxy restarted by its supervisor comes back paused with
  // the lease (its state file keeps it) and takes the call; after the lease
  // it ends the move itself.
  Result<nlohmann::json> CallProxy(const std::function<Result<nlohmann::json>()>& call) {
    const auto deadline = Clock::now() + options_.max_pause + kLeaseMargin;
    for (;;) {
      const auto called = Clock::now();
      Result<nlohmann::json> r = call();
      if (r) {
        lease_renewed_ = called;
        return r;
      }
      if (Clock::now() + std::chrono::milliseconds(100) > deadline) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  Status Repoint() {
    auto r = CallProxy(
        [&] { return proxy_.Repoint(to_.admin.host, to_.admin.port, options_.close_pinned, close_open_transactions_); });
    if (!r) return Fail(r.error());
    detail_ = fmt::format("{} session(s) moved", (*r)["moved"].get<int>());
    return {};
  }

  Status Resume() {
    auto r = CallProxy([&] { return proxy_.Resume(); });
    if (!r) return Fail(r.error());
    client_pause_ms_ = MsSince(pause_start_);
    detail_ = fmt::format("clients paused {:.1f} ms in all", client_pause_ms_);
    return {};
  }

  // The old primary follows the new one, so that a rollback loses nothing. It
  // applies with as many parallel threads as the new primary did as a replica
  // (the clone's --replica-threads): single-threaded, it would fall behind the
  // full load and make the rollback wait.
  Status ReverseReplication() {
    auto threads = ParallelThreads();
    if (!threads) return Fail(threads.error());
    // The new primary stops following the old one before the fence lifts.
    if (Status st = replication::StopAndForgetReplica(*to_conn_); !st) return st;
    // Whatever waits on the fence would commit on the old primary the moment
    // it lifts, after the final position: a change the new primary never
    // sees. It fails instead.
    auto waiters = KillFenceWaiters(*from_conn_, fence_conn_->thread_id());
    if (!waiters) return Fail(waiters.error());
    (void)fence_conn_->Execute("BACKUP STAGE END");
    if (!waiters->empty()) {
      observer_.Step("warning", fmt::format("killed {} session(s) that waited on the fence, so that their statements do "
                                            "not commit on the old primary: {}",
                                            waiters->size(), fmt::join(*waiters, "; ")));
    }
    // A resumed move may find the old primary following the new one already,
    // past the final position: starting it again from there would apply the
    // new primary's transactions twice. It only needs to run.
    auto status = replication::ReadReplicaStatus(*from_conn_);
    if (!status) return Fail(status.error());
    if (status->configured && status->source_host == to_.repl_host && status->source_port == to_.repl_port) {
      if (Status st = from_conn_->Execute("START SLAVE"); !st) return st;
      detail_ = "the old primary follows the new one already";
      return EnableEvents();
    }
    if (Status st = replication::StopAndForgetReplica(*from_conn_); !st) return st;
    replication::SourceAddress to_addr{to_.repl_host, to_.repl_port, options_.repl_user, options_.repl_password};
    if (Status st = replication::StartReplica(*from_conn_, to_addr, state_.final_gtid, *threads); !st) return st;
    return EnableEvents();
  }

  // The new primary's slave_parallel_threads, the setting it replicated with.
  Result<int> ParallelThreads() {
    auto threads = db::ReadGlobal(*to_conn_, "slave_parallel_threads");
    if (!threads) return Fail(threads.error());
    return std::atoi(threads->c_str());
  }

  // Other replicas that followed the old primary follow the new one, from
  // where they are (GTID): the new primary's binary log has everything the
  // old one had.
  Status Cascade() {
    auto threads = ParallelThreads();
    if (!threads) return Fail(threads.error());
    int moved = 0;
    for (const db::Endpoint& endpoint : options_.replicas) {
      auto conn = db::Connection::Connect(endpoint);
      if (!conn) return Fail(conn.error().WithContext("replica listed in [[switchover.replicas]]"));
      auto status = replication::ReadReplicaStatus(*conn);
      if (!status) return Fail(status.error());
      if (status->configured && (status->source_host != from_.repl_host || status->source_port != from_.repl_port)) {
        continue;  // it follows someone else: leave it
      }
      auto applied = replication::ReadAppliedGtid(*conn);
      if (!applied) return Fail(applied.error());
      if (Status st = replication::StopAndForgetReplica(*conn); !st) return st;
      replication::SourceAddress to_addr{to_.repl_host, to_.repl_port, options_.repl_user, options_.repl_password};
      if (Status st = replication::StartReplica(*conn, to_addr, *applied, *threads); !st) {
        return Fail(LeaseContext(st.error()).WithContext(fmt::format("re-pointing replica {}", conn->where())));
      }
      ++moved;
    }
    if (!options_.replicas.empty()) detail_ = fmt::format("{} replica(s) now follow the new primary", moved);
    return {};
  }

  // Events were created DISABLE ON SLAVE on the replica. Enabling them on the
  // new primary is replicated, and the old primary marks them
  // SLAVESIDE_DISABLED in turn, so they run in one place only.
  Status EnableEvents() {
    auto events = to_conn_->Query(
        "SELECT EVENT_SCHEMA, EVENT_NAME FROM information_schema.EVENTS WHERE STATUS = 'SLAVESIDE_DISABLED'");
    if (!events) return Fail(events.error());
    for (const db::Row& e : events->rows) {
      Status st = to_conn_->Execute(fmt::format("ALTER EVENT {}.{} ENABLE", db::QuoteIdentifier(e[0].value_or("")),
                                                db::QuoteIdentifier(e[1].value_or(""))));
      if (!st) return Fail(st.error().WithContext("enabling events on the new primary"));
    }
    if (!events->rows.empty()) detail_ = fmt::format("{} event(s) enabled on the new primary", events->rows.size());
    return {};
  }

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

Result<MoveState> LoadIdle(const SwitchoverOptions& options) {
  auto state = LoadMoveState(options.state_file);
  if (!state) return Fail(state.error());
  if (state->in_progress) {
    return Fail(Error::Precondition(fmt::format(
        "a move from {} to {} started {} stopped at step {}; run cutover switchover --resume to finish it or "
        "--abort to undo it (state file {})",
        state->from, state->to, state->started_at, StepName(state->step), options.state_file)));
  }
  return state;
}

}  // namespace

Result<SwitchoverReport> RunSwitchover(const SwitchoverOptions& options, std::string_view to_role,
                                       SwitchoverObserver& observer) {
  auto lock = MoveLock::Acquire(options.state_file);
  if (!lock) return Fail(lock.error());
  auto state = LoadIdle(options);
  if (!state) return Fail(state.error());
  const std::string from_role = to_role == "target" ? "source" : "target";
  if (state->primary == to_role) {
    return Fail(Error::Precondition(fmt::format("the {} is already the primary (state file {}){}", to_role,
                                                options.state_file,
                                                to_role == "target" ? "; to move back run cutover rollback" : "")));
  }
  if (state->old_released) {
    return Fail(Error::Precondition(fmt::format(
        "cutover finish released the {}; it no longer follows the primary, so it cannot take over", to_role)));
  }
  state->in_progress = true;
  state->from = from_role;
  state->to = std::string(to_role);
  state->step = Step::kPrechecked;
  state->started_at = UtcNow();
  state->final_gtid.clear();
  state->timeline.clear();
  Move move(options, observer, *state);
  if (Status st = move.Connect(); !st) return Fail(st.error());
  if (Status st = move.Precheck(); !st) return Fail(st.error());  // nothing saved, nothing changed
  if (Status st = move.PrepareProxy(); !st) return Fail(st.error());
  for (int attempt = 1;; ++attempt) {
    if (Status st = move.CatchUpGate(); !st) {  // nothing saved, nothing changed
      move.UnprepareProxy();
      return Fail(st.error());
    }
    auto report = move.Forward(Step::kPause);
    if (report) return report;
    if (!move.over_budget() || attempt >= std::max(1, options.attempts)) {
      if (!move.Committed()) move.UnprepareProxy();
      if (!move.over_budget()) return report;
      return Fail(Error(report.error().code(),
                        fmt::format("gave up after {} attempt(s): {}", attempt, report.error().message())));
    }
    observer.Step("retry", fmt::format("attempt {} of {}: the target did not catch up within the pause budget; clients "
                                       "resumed on the {}; trying again",
                                       attempt + 1, options.attempts, from_role));
    move.Restart();
  }
}

Result<SwitchoverReport> ResumeSwitchover(const SwitchoverOptions& options, SwitchoverObserver& observer) {
  auto lock = MoveLock::Acquire(options.state_file);
  if (!lock) return Fail(lock.error());
  auto state = LoadMoveState(options.state_file);
  if (!state) return Fail(state.error());
  if (!state->in_progress) return Fail(Error::Precondition("no move is in progress; nothing to resume"));
  observer.Step("resume", fmt::format("continuing the move from {} to {} at step {}", state->from, state->to,
                                      StepName(state->step)));
  Move move(options, observer, *state);
  if (Status st = move.Connect(); !st) return Fail(st.error());
  // The pause and the fence died with the old orchestrator's connections: take
  // them again. Before the commit point the move is redone from the pause;
  // after it, the promotion (idempotent) is repeated under a fresh fence.
  return move.Forward(Step::kPause);
}

Status AbortSwitchover(const SwitchoverOptions& options, SwitchoverObserver& observer) {
  auto lock = MoveLock::Acquire(options.state_file);
  if (!lock) return Fail(lock.error());
  auto state = LoadMoveState(options.state_file);
  if (!state) return Fail(state.error());
  if (!state->in_progress) return Fail(Error::Precondition("no move is in progress; nothing to abort"));
  Move move(options, observer, *state);
  if (Status st = move.Connect(); !st) return Fail(st.error());
  auto writable = move.TargetWritable();
  if (!writable) return Fail(writable.error());
  if (move.Committed() || *writable) {
    return Fail(Error::Precondition(fmt::format(
        "the move reached its commit point ({} is writable); it can only go forward: run cutover switchover --resume, "
        "then cutover rollback if you want the {} back",
        state->to, state->from)));
  }
  std::vector<std::string> problems = move.Undo();
  if (problems.empty()) return {};
  return Fail(move.Explain(Error::Cancelled("aborted on request"), problems));
}

Status FinishMove(const SwitchoverOptions& options, SwitchoverObserver& observer) {
  auto lock = MoveLock::Acquire(options.state_file);
  if (!lock) return Fail(lock.error());
  auto state = LoadIdle(options);
  if (!state) return Fail(state.error());
  if (state->old_released) return Fail(Error::Precondition("cutover finish already ran"));
  if (state->primary != "target") {
    return Fail(Error::Precondition("the source is the primary: no move to finish (run cutover switchover first)"));
  }
  const ServerRole& old = options.source;
  auto conn = ConnectRole(old);
  if (!conn) return Fail(conn.error());
  if (Status st = replication::StopAndForgetReplica(*conn); !st) return st;
  state->old_released = true;
  if (Status st = SaveMoveState(options.state_file, *state); !st) return st;
  observer.Step("finish", fmt::format("{} {} no longer follows the primary; it stays read-only and can be retired",
                                      old.role, conn->where()));
  return {};
}

}  // namespace cutover::switchover
