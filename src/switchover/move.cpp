#include "switchover/move.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "replication/replica.h"
#include "switchover/abandoned_move.h"
#include "switchover/prechecks.h"

namespace cutover::switchover {
namespace {

double MsSince(Move::Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Move::Clock::now() - start).count();
}

const ServerRole& Role(const SwitchoverOptions& o, std::string_view name) {
  return name == "source" ? o.source : o.target;
}

}  // namespace

Result<db::Connection> ConnectRole(const ServerRole& r) {
  db::ConnectOptions options;
  options.read_timeout = std::min(r.admin.timeout, kMoveStatementTimeout);
  options.write_timeout = options.read_timeout;
  options.connect_timeout = std::min(options.connect_timeout, options.read_timeout);
  auto conn = db::Connection::Connect(r.admin, options);
  if (!conn) return Fail(conn.error().WithContext(fmt::format("cannot log in to the {} ([{}])", r.role, r.role)));
  return conn;
}

Move::Move(const SwitchoverOptions& options, SwitchoverObserver& observer, MoveState state)
    : options_(options),
      observer_(observer),
      state_(std::move(state)),
      from_(Role(options, state_.from)),
      to_(Role(options, state_.to)),
      proxy_(options.proxy) {}

Status Move::Connect() {
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

Status Move::Precheck() {
  return Timed("pre-checks", [&]() -> Status {
    if (Status st = CheckBeforeMove(options_, from_, to_, *from_conn_, *to_conn_, proxy_); !st) return st;
    auto ro = from_conn_->QueryValue("SELECT @@GLOBAL.read_only");
    if (!ro) return Fail(ro.error());
    state_.from_was_read_only = ro->value_or("0") == "1";
    return {};
  });
}

Status Move::PrepareProxy() {
  return Timed("prepare", [&]() -> Status {
    auto r = proxy_.Prepare(to_.admin.host, to_.admin.port);
    if (!r) {
      observer_.Step("warning", fmt::format("the proxy could not prepare standby connections ({}); the re-point will "
                                            "open them inside the pause",
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

void Move::UnprepareProxy() {
  if (auto r = proxy_.Unprepare(); !r) {
    observer_.Step("warning", fmt::format("the proxy kept its standby connections: {}", r.error().message()));
  }
}

Status Move::CatchUpGate() {
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

void Move::Restart() {
  over_budget_ = false;
  state_.in_progress = true;
  state_.final_gtid.clear();
}

Result<SwitchoverReport> Move::Forward(Step first) {
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

Status Move::Save(Step step) {
  state_.step = step;
  return SaveMoveState(options_.state_file, state_);
}

Status Move::Timed(const char* name, const std::function<Status()>& run) {
  const auto start = Clock::now();
  Status st = run();
  const double ms = MsSince(start);
  state_.timeline.push_back({name, ms});
  observer_.Step(name, st ? fmt::format("{:.1f} ms{}", ms, detail_.empty() ? "" : ", " + detail_)
                          : fmt::format("failed after {:.1f} ms", ms));
  detail_.clear();
  return st;
}

Status Move::Pause() {
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

nlohmann::json Move::Lease() const {
  return {{"from", {{"host", from_.admin.host}, {"port", from_.admin.port}}},
          {"to", {{"host", to_.admin.host}, {"port", to_.admin.port}}},
          {"from_was_read_only", state_.from_was_read_only},
          {"from_connection_ids", own_ids_on_from_},
          {"to_connection_ids", {to_conn_->thread_id()}},
          {"lease_ms", (options_.max_pause + kLeaseMargin).count()}};
}

Error Move::LeaseContext(const Error& e) const {
  if (!lease_renewed_ || Clock::now() - *lease_renewed_ <= options_.max_pause + kLeaseMargin) return e;
  return e.WithContext(fmt::format(
      "{:.0f} ms passed since this switchover last renewed its lease at the proxy, longer than the lease ({} ms; "
      "this process or the proxy stalled, or the network between them): the proxy may have ended the move itself "
      "(see its log)",
      MsSince(*lease_renewed_), (options_.max_pause + kLeaseMargin).count()));
}

Result<std::vector<uint64_t>> Move::ProxyBackendIds() {
  auto status = proxy_.Status();
  if (!status) return Fail(status.error());
  std::vector<uint64_t> ids = {fence_conn_->thread_id()};
  for (const auto& s : (*status)["sessions"]) ids.push_back(s.value("backend_connection_id", uint64_t{0}));
  return ids;
}

Status Move::Fence() {
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
    detail_ = fmt::format("final GTID '{}' (recorded){}", state_.final_gtid,
                          writers.empty() ? "" : ", killed " + writers);
    return {};
  }
  auto gtid = replication::ReadBinlogGtid(*from_conn_);
  if (!gtid) return Fail(gtid.error());
  state_.final_gtid = *gtid;
  detail_ = fmt::format("final GTID '{}'{}", *gtid, writers.empty() ? "" : ", killed " + writers);
  return SaveMoveState(options_.state_file, state_);
}

Status Move::CatchUp() {
  if (Status st = WaitForFinalGtid(); !st) return st;
  return ReadTargetClock();
}

Status Move::WaitForFinalGtid() {
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

Status Move::Promote() {
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

Status Move::ReadTargetClock() {
  auto now = to_conn_->QueryValue("SELECT UNIX_TIMESTAMP(SYSDATE(6))");
  if (!now) return Fail(now.error());
  const std::string reading = now->value_or("");
  if (reading.empty() || reading.find_first_not_of("0123456789.") != std::string::npos) {
    return Fail(Error::Malformed(fmt::format("{} answered its clock reading with '{}'", to_conn_->where(), reading)));
  }
  target_clock_ = reading;
  return {};
}

Result<nlohmann::json> Move::CallProxy(const std::function<Result<nlohmann::json>()>& call) {
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

Status Move::Repoint() {
  auto r = CallProxy(
      [&] { return proxy_.Repoint(to_.admin.host, to_.admin.port, options_.close_pinned, close_open_transactions_); });
  if (!r) return Fail(r.error());
  detail_ = fmt::format("{} session(s) moved", (*r)["moved"].get<int>());
  return {};
}

Status Move::Resume() {
  auto r = CallProxy([&] { return proxy_.Resume(); });
  if (!r) return Fail(r.error());
  client_pause_ms_ = MsSince(pause_start_);
  detail_ = fmt::format("clients paused {:.1f} ms in all", client_pause_ms_);
  return {};
}

Status Move::ReverseReplication() {
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

Result<int> Move::ParallelThreads() {
  auto threads = db::ReadGlobal(*to_conn_, "slave_parallel_threads");
  if (!threads) return Fail(threads.error());
  return std::atoi(threads->c_str());
}

Status Move::Cascade() {
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

Status Move::EnableEvents() {
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

}  // namespace cutover::switchover
