#include "proxy/proxy_server.h"

#include <asio/detached.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "proxy/client_session.h"
#include "proxy/session_state.h"
#include "proxy/state_file.h"

namespace cutover::proxy {
namespace {

using Clock = std::chrono::steady_clock;

SessionInfo Describe(const ClientSession& s, int worker) {
  return SessionInfo{s.id(), worker, s.user(), s.peer(), s.backend_address(), s.in_transaction(),
                     s.busy(), s.BusyReason(), s.pins(), DescribePins(s.pins()), s.backend_connection_id(),
                     s.busy() && s.phase() == ClientSession::Phase::kIdle && s.in_transaction(),
                     s.has_standby()};
}

// Runs a task on a worker's thread and resumes the caller on its own loop
// with the result. Tasks are coroutine functions taking their arguments by
// value: g++ 12 mishandles coroutine lambdas with captures.
template <class T>
awaitable<T> OnWorker(ProxyWorker& worker, awaitable<T> task) {
  co_return co_await asio::co_spawn(worker.context(), std::move(task), asio::use_awaitable);
}

// Every logged-in session, or (`only_unclean`) only those a move must look
// at: busy or pinned. Describing thousands of clean ones inside the pause
// costs milliseconds for nothing.
awaitable<std::vector<SessionInfo>> DescribeSessions(ProxyWorker* worker, bool only_unclean) {
  std::vector<SessionInfo> out;
  for (const ClientSession* s : worker->sessions()) {
    if (s->phase() == ClientSession::Phase::kHandshake) continue;
    if (only_unclean && !s->busy() && s->pins() == 0) continue;
    out.push_back(Describe(*s, worker->index()));
  }
  co_return out;
}

awaitable<int> CountSessionsOn(ProxyWorker* worker, HostPort backend) {
  int n = 0;
  const std::string address = backend.ToString();
  for (const ClientSession* s : worker->sessions()) n += s->backend_address() == address;
  co_return n;
}

awaitable<WorkerCounters> ReadCounters(ProxyWorker* worker) { co_return worker->counters(); }

using MoveResults = std::vector<std::pair<uint32_t, Status>>;

// Counts down the moves under way on one worker.
struct MoveLatch {
  explicit MoveLatch(asio::io_context& context) : timer(context, asio::steady_timer::time_point::max()) {}
  size_t pending = 0;
  asio::steady_timer timer;
  MoveResults results;
};

awaitable<void> PrepareOne(std::shared_ptr<ClientSession> session, HostPort target, std::shared_ptr<MoveLatch> latch) {
  auto st = co_await session->PrepareMove(target);
  latch->results.emplace_back(session->id(), std::move(st));
  if (--latch->pending == 0) latch->timer.cancel();
}

std::vector<std::shared_ptr<ClientSession>> MovableSessions(ProxyWorker* worker) {
  std::vector<std::shared_ptr<ClientSession>> out;
  for (ClientSession* s : worker->sessions()) {
    if (s->has_backend() && s->pins() == 0 && !s->in_transaction()) out.push_back(s->shared_from_this());
  }
  return out;
}

// Prepares every movable session of a worker concurrently.
awaitable<MoveResults> PrepareMovesOn(ProxyWorker* worker, HostPort target) {
  auto latch = std::make_shared<MoveLatch>(worker->context());
  const auto sessions = MovableSessions(worker);
  latch->pending = sessions.size();
  for (auto& s : sessions) asio::co_spawn(worker->context(), PrepareOne(s, target, latch), asio::detached);
  while (latch->pending > 0) co_await latch->timer.async_wait(kNoThrow);
  co_return std::move(latch->results);
}

// Warming opens at most this many connections at once per worker: thousands
// of simultaneous logins would overflow the server's listen backlog.
constexpr size_t kWarmLanes = 32;

// POST /prepare starts no new login after this; the sessions left get their
// connection inside the pause, as without /prepare.
constexpr std::chrono::seconds kWarmDeadline{60};

struct WarmJob {
  explicit WarmJob(asio::io_context& context) : latch(context) {}
  std::vector<std::shared_ptr<ClientSession>> sessions;
  size_t next = 0;
  HostPort target;
  Clock::time_point deadline = Clock::now() + kWarmDeadline;
  MoveLatch latch;  // counts lanes
};

awaitable<void> WarmLane(std::shared_ptr<WarmJob> job) {
  while (job->next < job->sessions.size()) {
    std::shared_ptr<ClientSession> session = job->sessions[job->next++];
    if (Clock::now() > job->deadline) {
      job->latch.results.emplace_back(session->id(), Fail(Error::Timeout(fmt::format(
                                                          "not tried: /prepare ran for {} s", kWarmDeadline.count()))));
      continue;
    }
    auto st = co_await session->Warm(job->target);
    job->latch.results.emplace_back(session->id(), std::move(st));
  }
  if (--job->latch.pending == 0) job->latch.timer.cancel();
}

awaitable<MoveResults> WarmSessionsOn(ProxyWorker* worker, HostPort target) {
  auto job = std::make_shared<WarmJob>(worker->context());
  job->target = target;
  for (ClientSession* s : worker->sessions()) {
    if (s->has_backend() && s->pins() == 0) job->sessions.push_back(s->shared_from_this());
  }
  // A lane may finish inside co_spawn (no session needed a login), so the
  // loop counts lanes, not what is still pending.
  const size_t lanes = std::min(kWarmLanes, job->sessions.size());
  job->latch.pending = lanes;
  for (size_t i = 0; i < lanes; ++i) asio::co_spawn(worker->context(), WarmLane(job), asio::detached);
  while (job->latch.pending > 0) co_await job->latch.timer.async_wait(kNoThrow);
  co_return std::move(job->latch.results);
}

awaitable<void> DropStandbysOn(ProxyWorker* worker) {
  for (ClientSession* s : worker->sessions()) s->DropStandby();
  co_return;
}

awaitable<void> FinishMovesOn(ProxyWorker* worker, bool commit, std::vector<uint32_t> doomed, std::string message) {
  for (ClientSession* s : worker->sessions()) {
    if (std::find(doomed.begin(), doomed.end(), s->id()) != doomed.end()) s->Doom(message);
    if (commit && s->has_pending_move()) {
      s->CommitMove();
    } else {
      s->AbortMove();
    }
    if (commit) s->DropStandby();
  }
  co_return;
}

std::string ListSessions(const std::vector<SessionInfo>& sessions, bool pins) {
  std::string out;
  for (const auto& s : sessions) {
    if (!out.empty()) out += "; ";
    out += fmt::format("session {} ({}, user '{}'): {}", s.id, s.client, s.user, pins ? s.pin_reasons : s.busy_reason);
  }
  return out;
}

}  // namespace

ProxyServer::ProxyServer(ProxyConfig config) : config_(std::move(config)), shared_(config_) {
  for (int i = 0; i < std::max(1, config_.threads); ++i) {
    workers_.push_back(std::make_unique<ProxyWorker>(shared_, i));
  }
}

ProxyServer::~ProxyServer() { Stop(); }


Status ProxyServer::Start() {
  std::optional<MoveLease> interrupted_move;
  if (!config_.state_file.empty()) {
    auto saved = LoadProxyState(config_.state_file);
    if (!saved) return Fail(saved.error());
    if (saved->primary) {
      spdlog::info("primary {} restored from {}", saved->primary->ToString(), config_.state_file);
      shared_.SetPrimary(*saved->primary);
    }
    interrupted_move = saved->move;
  }
  auto tls = LoadTlsContexts(config_);
  if (!tls) return Fail(tls.error());
  shared_.SetTls(std::move(*tls));
  const bool sha2 = std::any_of(config_.users.begin(), config_.users.end(),
                                [](const ProxyUser& u) { return u.auth_plugin == protocol::kCachingSha2Plugin; });
  if (sha2) {
    auto key = protocol::RsaKey::Generate();
    if (!key) return Fail(key.error());
    shared_.rsa_key = std::move(*key);
  }
  if (config_.tls.enabled()) spdlog::info("TLS towards clients: {}", shared_.Tls()->client_certificate);
  auto acceptor = Listen(control_, config_.listen, "proxy.listen");
  if (!acceptor) return Fail(acceptor.error());
  acceptor_ = std::move(*acceptor);
  listen_port_ = acceptor_->local_endpoint().port();

  // Greet clients like the primary does, when it can be reached now.
  auto probe = asio::co_spawn(control_, BackendConnection::Probe(shared_.Primary(), config_.connect_timeout),
                              asio::use_future);
  control_.run();
  control_.restart();
  if (auto greeting = probe.get()) {
    shared_.SetGreeting(*greeting);
  } else {
    spdlog::warn("primary {} is not reachable now ({}); clients will get errors until it is",
                 shared_.Primary().ToString(), greeting.error().message());
  }
  if (interrupted_move) {
    // This process died while a move held clients paused. Come back paused,
    // with the move's lease: the switchover may still call; if it does not,
    // the guardian ends the move as if this process had never stopped.
    shared_.paused = true;
    paused_at_ = Clock::now();
    lease_ = std::move(interrupted_move);
    lease_in_state_file_ = true;
    ArmMaxPause();
    ArmLease();
    spdlog::warn("restarted in the middle of a move from {} to {} (state file): clients wait; the switchover has {} "
                 "ms to call again, then this proxy ends the move itself",
                 lease_->from.ToString(), lease_->to.ToString(), lease_->duration.count());
  }
  for (auto& w : workers_) w->StartThread();
  asio::co_spawn(control_, AcceptLoop(), asio::detached);
  control_work_.emplace(control_.get_executor());
  control_thread_ = std::thread([this] { control_.run(); });
  return {};
}

Result<std::string> ProxyServer::ReloadTls() {
  auto tls = LoadTlsContexts(config_);
  if (!tls) {
    spdlog::warn("TLS reload failed, the certificates in use stay: {}", tls.error().message());
    return Fail(tls.error());
  }
  std::string certificate = (*tls)->client_certificate;
  shared_.SetTls(std::move(*tls));
  spdlog::info("TLS reloaded{}{}", certificate.empty() ? "" : ": ", certificate);
  return certificate;
}

void ProxyServer::Stop() {
  if (control_thread_.joinable()) {
    asio::post(control_, [this] {
      asio::error_code ignored;
      if (acceptor_) acceptor_->close(ignored);
      max_pause_timer_.cancel();
      lease_timer_.cancel();
    });
    control_work_.reset();
    control_.stop();
    control_thread_.join();
  }
  if (guardian_thread_.joinable()) guardian_thread_.join();  // its calls are bounded by their timeouts
  for (auto& w : workers_) w->StopAndJoin();
}

awaitable<void> ProxyServer::AcceptLoop() {
  for (;;) {
    ProxyWorker& worker = *workers_[next_worker_++ % workers_.size()];
    auto [ec, socket] = co_await acceptor_->async_accept(worker.context(), kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) {
      // Out of file descriptors, typically: back off rather than spin.
      spdlog::warn("accept on {} failed: {}", config_.listen.ToString(), ec.message());
      asio::steady_timer backoff(control_, std::chrono::milliseconds(50));
      co_await backoff.async_wait(kNoThrow);
      continue;
    }
    asio::post(worker.context(), [&worker, s = std::move(socket)]() mutable { worker.Adopt(std::move(s)); });
  }
}

awaitable<std::vector<SessionInfo>> ProxyServer::CollectSessions(bool only_unclean) {
  std::vector<SessionInfo> all;
  for (auto& w : workers_) {
    auto task = DescribeSessions(w.get(), only_unclean);
    auto part = co_await OnWorker(*w, std::move(task));
    all.insert(all.end(), part.begin(), part.end());
  }
  co_return all;
}

awaitable<ProxyStatus> ProxyServer::CollectStatus() {
  ProxyStatus status;
  status.primary = shared_.Primary();
  status.server_version = shared_.Greeting().server_version;
  status.paused = shared_.paused.load();
  status.prepared = shared_.PreparedTarget();
  if (status.paused) {
    status.paused_for = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - paused_at_);
  }
  status.sessions = co_await CollectSessions(false);
  for (auto& w : workers_) {
    auto task = ReadCounters(w.get());
    auto c = co_await OnWorker(*w, std::move(task));
    status.totals.sessions_accepted += c.sessions_accepted;
    status.totals.logins_failed += c.logins_failed;
    status.totals.commands += c.commands;
    status.totals.backend_errors += c.backend_errors;
    status.totals.tls_sessions += c.tls_sessions;
    status.totals.tls_handshakes_failed += c.tls_handshakes_failed;
    status.totals.compressed_sessions += c.compressed_sessions;
  }
  co_return status;
}

void ProxyServer::ArmMaxPause() {
  const uint64_t generation = ++pause_generation_;
  max_pause_timer_.expires_after(config_.max_pause);
  max_pause_timer_.async_wait([this, generation](const asio::error_code& ec) {
    if (ec || generation != pause_generation_ || !shared_.paused.load()) return;
    if (guardian_running_) return;  // AfterGuardian resumes
    spdlog::warn("pause reached max_pause ({} ms); resuming on {}", config_.max_pause.count(),
                 shared_.Primary().ToString());
    if (repointing_) repoint_cancelled_ = true;
    asio::co_spawn(control_, Resume(), asio::detached);
  });
}

void ProxyServer::ArmLease() {
  const uint64_t generation = pause_generation_;
  lease_timer_.expires_after(lease_->duration);
  lease_timer_.async_wait([this, generation](const asio::error_code& ec) {
    if (ec || generation != pause_generation_ || !shared_.paused.load() || !lease_ || guardian_running_) return;
    if (repointing_) {  // the switchover at work
      ArmLease();
      return;
    }
    if (!guardian_) {
      spdlog::error("the switchover has not called for {} ms and this proxy cannot end the move itself (it needs "
                    "[source] and [target] in its config); clients stay paused until max_pause",
                    lease_->duration.count());
      return;
    }
    spdlog::warn("the switchover has not called for {} ms (dead or cut off?): the proxy ends the move from {} to {} "
                 "itself",
                 lease_->duration.count(), lease_->from.ToString(), lease_->to.ToString());
    guardian_running_ = true;
    if (guardian_thread_.joinable()) guardian_thread_.join();  // an earlier pause's, finished
    guardian_thread_ = std::jthread([this, lease = *lease_, generation] {
      Result<MoveOutcome> outcome = guardian_->Finish(lease);
      asio::co_spawn(control_, AfterGuardian(lease, std::move(outcome), generation), asio::detached);
    });
  });
}

awaitable<void> ProxyServer::AfterGuardian(MoveLease lease, Result<MoveOutcome> outcome, uint64_t generation) {
  guardian_running_ = false;
  if (generation != pause_generation_ || !shared_.paused.load()) co_return;  // resumed meanwhile
  lease_.reset();  // the move is the proxy's now: nothing renews or re-arms it
  lease_timer_.cancel();
  const bool max_pause_passed = Clock::now() - paused_at_ >= config_.max_pause;
  if (!outcome) {
    spdlog::error("could not end the abandoned move: {}", outcome.error().message());
    if (max_pause_passed) co_await Resume();  // as max_pause would have
    co_return;
  }
  if (*outcome == MoveOutcome::kCompleted && !(shared_.Primary() == lease.to)) {
    auto moved = co_await Repoint(lease.to, PinnedPolicy::kClose, /*close_open_transactions=*/true);
    if (!moved) {
      spdlog::error("the abandoned move is complete on the servers but the re-point to {} failed: {}",
                    lease.to.ToString(), moved.error().message());
      if (max_pause_passed) co_await Resume();
      co_return;
    }
  }
  spdlog::warn("ended the abandoned move: {}; clients resume there. Run cutover switchover --resume (or --abort) to "
               "finish its records",
               *outcome == MoveOutcome::kCompleted ? "completed, " + lease.to.ToString() + " is the primary"
                                                   : "undone, " + lease.from.ToString() + " is the primary");
  co_await Resume();
}

void ProxyServer::PersistState(const HostPort& primary) {
  if (config_.state_file.empty()) return;
  Status saved = SaveProxyState(config_.state_file, {primary, lease_});
  if (!saved) {
    spdlog::error("{}: a proxy restarted now would not know {}", saved.error().message(),
                  lease_ ? "the move in progress" : "that the move is over");
    return;
  }
  lease_in_state_file_ = lease_.has_value();
}

awaitable<PauseResult> ProxyServer::Pause(std::chrono::milliseconds drain_timeout, std::optional<MoveLease> lease) {
  if (!shared_.paused.exchange(true)) {
    paused_at_ = Clock::now();
    ArmMaxPause();
    spdlog::info("paused: new transactions wait");
  }
  if (lease) {
    lease_ = std::move(lease);
    ArmLease();
    PersistState(shared_.Primary());
  }
  const auto start = Clock::now();
  PauseResult result;
  asio::steady_timer tick(control_);
  for (;;) {
    result.busy.clear();
    auto sessions = co_await CollectSessions(true);
    for (auto& s : sessions) {
      if (s.busy) result.busy.push_back(std::move(s));
    }
    result.waited = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    if (result.busy.empty() || Clock::now() - start >= drain_timeout || !shared_.paused.load()) break;
    tick.expires_after(std::chrono::microseconds(500));
    co_await tick.async_wait(kNoThrow);
  }
  result.drained = result.busy.empty() && shared_.paused.load();
  co_return result;
}

awaitable<void> ProxyServer::Resume() {
  if (!shared_.paused.exchange(false)) co_return;
  ++pause_generation_;
  max_pause_timer_.cancel();
  lease_.reset();
  lease_timer_.cancel();
  if (lease_in_state_file_) PersistState(shared_.Primary());
  for (auto& w : workers_) {
    ProxyWorker& worker = *w;
    asio::post(worker.context(), [&worker] {
      worker.WakeGate();
      asio::post(worker.context(), [&worker] { worker.CloseRetired(); });  // after the woken sessions
    });
  }
  spdlog::info("resumed after {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - paused_at_).count());
  co_return;
}

awaitable<PrepareResult> ProxyServer::Prepare(HostPort target) {
  const auto start = Clock::now();
  if (shared_.PreparedTarget() != target) co_await Unprepare();
  shared_.SetPreparedTarget(target);
  PrepareResult result{target};
  for (auto& w : workers_) {
    auto task = WarmSessionsOn(w.get(), target);
    auto results = co_await OnWorker(*w, std::move(task));
    for (auto& [id, st] : results) {
      if (st) {
        ++result.warmed;
      } else if (st.error().code() != ErrorCode::kPrecondition) {  // pinned or closing meanwhile: not a failure
        result.failures.push_back(fmt::format("session {}: {}", id, st.error().message()));
      }
    }
  }
  result.took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  spdlog::info("prepared a move to {}: {} session(s) hold a standby connection, {} could not ({} us)",
               target.ToString(), result.warmed, result.failures.size(), result.took.count());
  co_return result;
}

awaitable<void> ProxyServer::Unprepare() {
  shared_.SetPreparedTarget(std::nullopt);
  for (auto& w : workers_) {
    auto task = DropStandbysOn(w.get());
    co_await OnWorker(*w, std::move(task));
  }
}

awaitable<Result<RepointResult>> ProxyServer::Repoint(HostPort target, PinnedPolicy policy,
                                                     bool close_open_transactions) {
  const auto start = Clock::now();
  if (!shared_.paused.load()) co_return Fail(Error::Precondition("re-point needs a pause first (POST /pause)"));
  if (repointing_) co_return Fail(Error::Precondition("another re-point is in progress"));
  if (lease_ && !guardian_running_) ArmLease();  // the switchover calls: its lease runs again
  RepointResult result{shared_.Primary(), target};
  std::vector<SessionInfo> busy, pinned;
  std::vector<SessionInfo> in_transaction;
  auto sessions = co_await CollectSessions(true);
  for (auto& s : sessions) {
    if (s.idle_in_transaction && close_open_transactions) in_transaction.push_back(s);
    else if (s.busy) busy.push_back(s);
    else if (s.pins != 0 && !s.backend.empty()) pinned.push_back(s);
  }
  if (!busy.empty()) {
    co_return Fail(Error::Precondition(fmt::format("{} session(s) are not at a transaction boundary: {}",
                                                   busy.size(), ListSessions(busy, false))));
  }
  if (!pinned.empty() && policy == PinnedPolicy::kRefuse) {
    co_return Fail(Error::Precondition(fmt::format(
        "{} session(s) hold state that cannot move: {}; retry with pinned=close to close them",
        pinned.size(), ListSessions(pinned, true))));
  }
  auto greeting = co_await BackendConnection::Probe(target, config_.connect_timeout);
  if (!greeting) co_return Fail(greeting.error());

  repointing_ = true;
  repoint_cancelled_ = false;
  std::string failures;
  for (auto& w : workers_) {
    auto task = PrepareMovesOn(w.get(), target);
    auto results = co_await OnWorker(*w, std::move(task));
    for (auto& [id, st] : results) {
      if (!st) failures += fmt::format("{}session {}: {}", failures.empty() ? "" : "; ", id, st.error().message());
    }
  }
  Status saved;
  if (failures.empty() && !repoint_cancelled_ && !config_.state_file.empty()) {
    saved = SaveProxyState(config_.state_file, {target, lease_});
    if (saved) lease_in_state_file_ = lease_.has_value();
  }
  const bool commit = failures.empty() && !repoint_cancelled_ && saved;
  std::vector<uint32_t> doomed;
  if (commit) {
    for (const auto& p : pinned) doomed.push_back(p.id);
    for (const auto& t : in_transaction) doomed.push_back(t.id);
  }
  const std::string message = fmt::format(
      "cutover: this session was closed because the database moved to {} and its state cannot move", target.ToString());
  if (commit) shared_.SetPreparedTarget(std::nullopt);  // standbys that are still warming are dropped
  for (auto& w : workers_) {
    auto task = FinishMovesOn(w.get(), commit, doomed, message);
    co_await OnWorker(*w, std::move(task));
  }
  repointing_ = false;
  if (!commit) {
    if (repoint_cancelled_) co_return Fail(Error::Cancelled("the pause reached max_pause during the re-point; nothing moved"));
    if (!saved) co_return Fail(saved.error());
    co_return Fail(Error::Io(fmt::format("re-point to {} failed; nothing moved: {}", target.ToString(), failures)));
  }
  shared_.SetPrimary(target);
  shared_.SetGreeting(*greeting);
  result.closed = std::move(pinned);
  result.closed.insert(result.closed.end(), in_transaction.begin(), in_transaction.end());
  for (auto& w : workers_) {
    auto task = CountSessionsOn(w.get(), target);
    const int n = co_await OnWorker(*w, std::move(task));
    result.moved += n;
  }
  result.took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  spdlog::info("re-pointed {} session(s) from {} to {} in {} us", result.moved, result.from.ToString(),
               target.ToString(), result.took.count());
  co_return result;
}

}  // namespace cutover::proxy
