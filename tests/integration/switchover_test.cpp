// `cutover switchover`, `rollback`, `--resume`, `--abort` and `finish` against
// two real mariadbd servers, the proxy in-process, and the proof workload
// (8 clients, 300 operations/s) running through the proxy the whole time.
// Every test ends with the user's questions answered against the final
// primary: was any acknowledged write lost or duplicated, is the bank total
// intact, is exactly one server writable, and did the clients resume.
//
// The cluster is shared (see switchover_fixture.h); the tests that leave it
// unusable (a killed server, `finish`) come last and mark it dirty.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "clone_fixture.h"
#include "replication/replica.h"
#include "switchover_fixture.h"
#include "verify/verify.h"

namespace cutover::testing::switchover_tests {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

class QuietVerify : public verify::VerifyObserver {
 public:
  void Step(std::string_view) override {}
  void Warning(std::string_view what) override { fmt::print("[verify] warning: {}\n", what); }
  void Progress(size_t, size_t, uint64_t, size_t) override {}
};

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

double MsSince(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

// A TCP port on 127.0.0.1 where nothing listens.
uint16_t ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class SwitchoverTest : public SwitchoverFixture {
 protected:
  // verify::RunVerify from the primary `from` to its replica `to`: identical.
  void ExpectIdentical(const std::string& from, const std::string& to) {
    verify::VerifyOptions v;
    v.source = Server(from).RootEndpoint();
    v.target = Server(to).RootEndpoint();
    QuietVerify quiet;
    std::atomic<bool> cancel{false};
    const auto start = Clock::now();
    auto report = verify::RunVerify(v, quiet, cancel);
    ASSERT_TRUE(report) << "verify " << from << " -> " << to << ": " << report.error().message();
    std::string different;
    for (const auto& t : report->tables) {
      if (t.verdict != verify::Verdict::kIdentical) {
        different += fmt::format(" {}: {} ({} rows)", t.table, verify::VerdictName(t.verdict), t.differing_rows);
      }
    }
    EXPECT_TRUE(report->identical()) << "verify " << from << " -> " << to << ":" << different;
    EXPECT_GE(report->tables.size(), 3u);  // shop.customers, cutover_workload.appends and .accounts
    fmt::print("[verify] {} -> {}: {} in {:.0f} ms, {} table(s), {} round(s)\n", from, to,
               report->identical() ? "identical" : "DIFFERENT", MsSince(start), report->tables.size(),
               report->rounds);
  }

  // The replica `role` replicates from `from` with both threads running (a
  // replica just started gets 10 s to connect).
  void ExpectReplicatesFrom(const std::string& role, const std::string& from) {
    db::Connection conn = Root(role);
    const auto deadline = Clock::now() + seconds(10);
    for (;;) {
      auto status = replication::ReadReplicaStatus(conn);
      ASSERT_TRUE(status) << status.error().message();
      const bool ok = status->configured && status->running() && status->source_port == Server(from).port();
      if (ok) return;
      if (Clock::now() > deadline) {
        ADD_FAILURE() << role << " should replicate from the " << from << " (port " << Server(from).port()
                      << "): " << status->Describe();
        return;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  // Waits until the state file records the move at `step`; false if it never
  // does within `timeout`.
  bool WaitForStep(switchover::Step step, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto state = switchover::LoadMoveState(state_file());
      if (state && state->in_progress && state->step == step) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  }

  // Writes the state file as an orchestrator that died in the fence of a move
  // from the source to the target leaves it, starting from `idle`.
  void SaveMoveDiedInFence(switchover::MoveState idle) {
    idle.in_progress = true;
    idle.from = "source";
    idle.to = "target";
    idle.step = switchover::Step::kFence;
    idle.started_at = "2026-01-01T00:00:00Z";
    ASSERT_TRUE(switchover::SaveMoveState(state_file(), idle));
  }

  // The proxy session ids (GET /status).
  std::vector<int> SessionIds() {
    std::vector<int> ids;
    const nlohmann::json status = ProxyStatus();  // outlives the loop
    for (const auto& s : status["sessions"]) ids.push_back(s["id"].get<int>());
    return ids;
  }

  // Starts `cutover switchover --config` as a child, waits until its state
  // file says it waits for the catch-up (the old primary fenced, clients
  // paused), and SIGKILLs it there, as a crash of the orchestrator would.
  // REQUIRES: the target's applier is blocked (TargetApplyBlock).
  void KillOrchestratorDuringCatchUp(const std::string& config) {
    clone_tests::BackgroundCutover child({CUTOVER_BINARY, "switchover", "--config", config});
    const bool reached = WaitForStep(switchover::Step::kCatchUp, seconds(20));
    child.Signal(SIGKILL);
    child.Wait(seconds(10));
    ASSERT_TRUE(reached) << "the orchestrator never reached the catch-up step:\n" << child.output();
    fmt::print("[orchestrator] killed during catch-up; its output:\n{}", child.output());

    // The crash leaves the move half-done: the old primary fenced, clients
    // held at the proxy, the state file naming the step.
    switchover::MoveState state = LoadState();
    EXPECT_TRUE(state.in_progress);
    EXPECT_EQ(state.step, switchover::Step::kCatchUp);
    EXPECT_FALSE(state.final_gtid.empty());
    EXPECT_EQ(ReadOnly("source"), "1") << "the fence (read_only) outlives the orchestrator";
    EXPECT_TRUE(ProxyStatus().value("paused", false)) << "clients stay paused until max_pause_ms";
  }
};

// 1. The whole journey and back: switchover, verify, rollback, verify.
TEST_F(SwitchoverTest, SwitchoverAndRollbackUnderLoadLoseNothing) {
  const switchover::SwitchoverOptions options = Options();
  StepLog forward_steps;
  auto forward = switchover::RunSwitchover(options, "target", forward_steps);
  ASSERT_TRUE(forward) << forward.error().message() << "\n" << forward_steps.Text();
  fmt::print("[switchover] source -> target, clients paused {:.1f} ms\n{}", forward->client_pause_ms,
             forward_steps.Text());
  EXPECT_LT(forward->client_pause_ms, 1000);
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"target"});
  EXPECT_EQ(ProxyStatus().value("primary", ""), Address("target"));
  EXPECT_FALSE(ProxyStatus().value("paused", true));
  switchover::MoveState state = LoadState();
  EXPECT_EQ(state.primary, "target");
  EXPECT_FALSE(state.in_progress);
  ExpectReplicatesFrom("source", "target");  // reverse replication, so a rollback loses nothing
  ExpectWorkloadProgress("after the switchover");

  std::this_thread::sleep_for(seconds(1));
  ExpectIdentical("target", "source");

  StepLog back_steps;
  auto back = switchover::RunSwitchover(options, "source", back_steps);
  ASSERT_TRUE(back) << back.error().message() << "\n" << back_steps.Text();
  fmt::print("[rollback] target -> source, clients paused {:.1f} ms\n{}", back->client_pause_ms, back_steps.Text());
  EXPECT_LT(back->client_pause_ms, 1000);
  EXPECT_EQ(LoadState().primary, "source");
  ExpectReplicatesFrom("target", "source");
  ExpectWorkloadProgress("after the rollback");
  ExpectIdentical("source", "target");

  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// 4. A client holds a transaction open through the proxy when the drain starts.
TEST_F(SwitchoverTest, OpenTransactionFailsTheDrainCleanlyUnlessKilled) {
  const std::vector<int> before = SessionIds();
  auto connected = db::Connection::Connect(ProxyEndpoint());
  ASSERT_TRUE(connected) << connected.error().message();
  std::optional<db::Connection> holder(std::move(*connected));
  ASSERT_TRUE(holder->Execute("START TRANSACTION"));
  ASSERT_TRUE(holder->Execute("UPDATE shop.customers SET note = 'held open' WHERE id = 1"));
  // The holder's proxy session: the one that appeared (the workload's clients
  // keep their connections).
  const nlohmann::json status = ProxyStatus();
  std::vector<nlohmann::json> appeared;
  for (const auto& s : status["sessions"]) {
    if (std::find(before.begin(), before.end(), s["id"].get<int>()) == before.end()) appeared.push_back(s);
  }
  ASSERT_EQ(appeared.size(), 1u) << "the holder's proxy session in /status: " << status.dump();
  const int holder_id = appeared[0]["id"].get<int>();
  EXPECT_TRUE(appeared[0]["in_transaction"].get<bool>()) << appeared[0].dump();

  switchover::SwitchoverOptions options = Options();
  options.drain_timeout = seconds(1);
  StepLog steps;
  auto refused = switchover::RunSwitchover(options, "target", steps);
  ASSERT_FALSE(refused) << "a transaction held open through the drain must stop the move\n" << steps.Text();
  const std::string message = refused.error().message();
  fmt::print("[switchover] refused as expected: {}\n", message);
  EXPECT_TRUE(Contains(message, "rolled back")) << message;
  EXPECT_TRUE(Contains(message, fmt::format("session {} ", holder_id))) << "names the busy session: " << message;
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"source"});
  EXPECT_EQ(ProxyStatus().value("primary", ""), Address("source"));
  EXPECT_FALSE(ProxyStatus().value("paused", true));
  EXPECT_FALSE(LoadState().in_progress);
  EXPECT_EQ(LoadState().primary, "source");
  ExpectReplicatesFrom("target", "source");
  ExpectWorkloadProgress("after the refused switchover");
  // The holder saw nothing: its transaction is still open and usable.
  auto inside = holder->QueryValue("SELECT note FROM shop.customers WHERE id = 1");
  ASSERT_TRUE(inside) << inside.error().message();
  EXPECT_EQ(inside->value_or("<NULL>"), "held open");

  options.kill_open_transactions = true;
  StepLog kill_steps;
  auto moved = switchover::RunSwitchover(options, "target", kill_steps);
  // Killed or not, the holder's transaction is over: its COMMIT fails.
  Status commit = holder->Execute("COMMIT");
  EXPECT_FALSE(commit) << "the killed transaction's COMMIT must not succeed";
  if (!commit) fmt::print("[holder] COMMIT after the kill: {}\n", commit.error().message());
  holder.reset();
  if (!moved) {
    ADD_FAILURE() << "with kill_open_transactions the move must go through: " << moved.error().message() << "\n"
                  << kill_steps.Text();
  } else {
    fmt::print("[switchover] with kill_open_transactions: clients paused {:.1f} ms\n{}", moved->client_pause_ms,
               kill_steps.Text());
    // The pause includes the drain timeout the holder used up.
    EXPECT_LT(moved->client_pause_ms, 1000 + 1000);
    EXPECT_EQ(WritableServers(), std::vector<std::string>{"target"});
    EXPECT_EQ(ProxyStatus().value("primary", ""), Address("target"));
    db::Connection on_target = Root("target");
    auto note = on_target.QueryValue("SELECT IFNULL(note, '<NULL>') FROM shop.customers WHERE id = 1");
    ASSERT_TRUE(note) << note.error().message();
    EXPECT_EQ(note->value_or(""), "<NULL>") << "the killed transaction's update must not survive";
    ExpectWorkloadProgress("after the switchover");

    StepLog back_steps;
    auto back = switchover::RunSwitchover(Options(), "source", back_steps);
    ASSERT_TRUE(back) << back.error().message() << "\n" << back_steps.Text();
    fmt::print("[rollback] clients paused {:.1f} ms\n", back->client_pause_ms);
    EXPECT_LT(back->client_pause_ms, 1000);
  }
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// 5. The proxy cannot be reached: the pre-checks fail and nothing changes.
TEST_F(SwitchoverTest, UnreachableProxyFailsThePrechecksAndChangesNothing) {
  switchover::SwitchoverOptions options = Options();
  options.proxy.port = ClosedPort();
  StepLog steps;
  auto r = switchover::RunSwitchover(options, "target", steps);
  ASSERT_FALSE(r) << steps.Text();
  const std::string message = r.error().message();
  fmt::print("[switchover] refused as expected: {}\n", message);
  EXPECT_TRUE(Contains(message, "proxy")) << message;
  EXPECT_TRUE(Contains(message, std::to_string(options.proxy.port))) << "names the address tried: " << message;

  switchover::MoveState state = LoadState();
  EXPECT_FALSE(state.in_progress) << "no move may be recorded";
  EXPECT_EQ(state.primary, "source");
  EXPECT_EQ(ReadOnly("target"), "1");
  ExpectReplicatesFrom("target", "source");
  EXPECT_FALSE(ProxyStatus().value("paused", true));
  ExpectWorkloadProgress("after the refused switchover");
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// 6. One move at a time: another process holds the move lock.
TEST_F(SwitchoverTest, SwitchoverIsRefusedWhileAnotherHoldsTheLock) {
  auto lock = switchover::MoveLock::Acquire(state_file());
  ASSERT_TRUE(lock) << lock.error().message();
  StepLog steps;
  auto r = switchover::RunSwitchover(Options(), "target", steps);
  ASSERT_FALSE(r) << steps.Text();
  fmt::print("[switchover] refused as expected: {}\n", r.error().message());
  EXPECT_TRUE(Contains(r.error().message(), "another cutover switchover")) << r.error().message();
  EXPECT_FALSE(LoadState().in_progress);
  EXPECT_EQ(ReadOnly("target"), "1");
  ExpectWorkloadProgress("after the refusal");
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// 6. One move at a time: a real switchover waits for the catch-up while a
// second switchover, a rollback and a finish are tried.
TEST_F(SwitchoverTest, SecondMoveIsRefusedWhileOneWaitsForCatchUp) {
  const switchover::SwitchoverOptions options = Options();
  {
    TargetApplyBlock block(target());
    ASSERT_FALSE(HasFailure());
    switchover::SwitchoverOptions slow = options;
    slow.catchup_timeout = seconds(20);
    slow.max_pause = seconds(21);   // a pause budget that lets the catch-up wait
    slow.gate_timeout = seconds(0);  // no gate: the applier is blocked on purpose
    StepLog first_steps;
    auto first = std::async(std::launch::async, [&] { return switchover::RunSwitchover(slow, "target", first_steps); });
    const bool waiting = WaitForStep(switchover::Step::kCatchUp, seconds(10));
    std::vector<std::string> refusals;
    if (waiting) {
      StepLog s1, s2, s3;
      auto again = switchover::RunSwitchover(options, "target", s1);
      auto back = switchover::RunSwitchover(options, "source", s2);
      Status finish = switchover::FinishMove(options, s3);
      EXPECT_FALSE(again) << "a second switchover";
      EXPECT_FALSE(back) << "a rollback";
      EXPECT_FALSE(finish) << "a finish";
      if (!again) refusals.push_back(again.error().message());
      if (!back) refusals.push_back(back.error().message());
      if (!finish) refusals.push_back(finish.error().message());
    }
    block.Release();
    auto r = first.get();
    ASSERT_TRUE(waiting) << "the first switchover never waited for the catch-up\n" << first_steps.Text();
    for (const std::string& m : refusals) {
      fmt::print("[refused] {}\n", m);
      EXPECT_TRUE(Contains(m, "another cutover switchover")) << m;
    }
    ASSERT_TRUE(r) << "the first switchover: " << r.error().message() << "\n" << first_steps.Text();
    fmt::print("[switchover] the first move finished once unblocked, clients paused {:.1f} ms\n",
               r->client_pause_ms);
  }
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"target"});
  EXPECT_EQ(LoadState().primary, "target");
  ExpectWorkloadProgress("after the first switchover");
  StepLog back_steps;
  auto back = switchover::RunSwitchover(options, "source", back_steps);
  ASSERT_TRUE(back) << back.error().message() << "\n" << back_steps.Text();
  ExpectWorkloadProgress("after the rollback");
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// 6. One move at a time: the state file records a move whose orchestrator died.
TEST_F(SwitchoverTest, SwitchoverIsRefusedWhileAMoveIsUnfinished) {
  const switchover::MoveState saved = LoadState();
  ASSERT_FALSE(saved.in_progress);
  ASSERT_NO_FATAL_FAILURE(SaveMoveDiedInFence(saved));
  StepLog steps;
  auto r = switchover::RunSwitchover(Options(), "target", steps);
  ASSERT_TRUE(switchover::SaveMoveState(state_file(), saved));  // as it was, for the next tests
  ASSERT_FALSE(r) << steps.Text();
  const std::string message = r.error().message();
  fmt::print("[switchover] refused as expected: {}\n", message);
  EXPECT_TRUE(Contains(message, "--resume") && Contains(message, "--abort")) << message;
  EXPECT_EQ(ReadOnly("target"), "1");
  EXPECT_FALSE(ProxyStatus().value("paused", true));
  ExpectWorkloadProgress("after the refusal");
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// A catch-up that times out rolls the move back, and a client whose
// transaction had ended before the pause never notices: the fence may kill
// only connections that still hold a transaction. (MariaDB serves
// INFORMATION_SCHEMA.INNODB_TRX from a cache refreshed at most every 100 ms,
// so a transaction open at the pre-checks can still be listed at the fence.)
TEST_F(SwitchoverTest, CatchUpTimeoutRollsBackWithoutHurtingIdleClients) {
  auto connected = db::Connection::Connect(ProxyEndpoint());
  ASSERT_TRUE(connected) << connected.error().message();
  db::Connection client = std::move(*connected);
  ASSERT_TRUE(client.Execute("START TRANSACTION"));
  ASSERT_TRUE(client.Execute("UPDATE shop.customers SET note = 'committed before the pause' WHERE id = 2"));

  TargetApplyBlock block(target());
  ASSERT_FALSE(HasFailure());
  switchover::SwitchoverOptions options = Options();
  options.catchup_timeout = milliseconds(500);
  options.max_pause = seconds(5);            // the catch-up timeout ends it, not the pause budget
  options.gate_timeout = milliseconds(0);  // no gate: the applier is blocked on purpose
  Status committed = Fail(Error::Io("not run"));
  // Right after the pre-checks, before the pause: the client commits and is
  // then idle, at a transaction boundary, for the rest of the move.
  StepLog steps([&](std::string_view step) {
    if (step == "pre-checks") committed = client.Execute("COMMIT");
  });
  auto r = switchover::RunSwitchover(options, "target", steps);
  block.Release();
  ASSERT_TRUE(committed) << committed.error().message();
  ASSERT_FALSE(r) << "the target could not catch up: the move must roll back\n" << steps.Text();
  fmt::print("[switchover] failed as expected: {}\n{}", r.error().message(), steps.Text());
  EXPECT_TRUE(Contains(r.error().message(), "rolled back")) << r.error().message();
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"source"});
  EXPECT_FALSE(LoadState().in_progress);

  // The client committed before the pause; it must be able to go on.
  auto note = client.QueryValue("SELECT note FROM shop.customers WHERE id = 2");
  EXPECT_TRUE(note) << "a client idle since before the pause got an error after the rollback: "
                    << note.error().message() << "\n" << steps.Text();
  if (note) {
    EXPECT_EQ(note->value_or("<NULL>"), "committed before the pause");
  }
  ExpectReplicatesFrom("target", "source");
  ExpectWorkloadProgress("after the rollback");
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// The orchestrator died inside the fence, after SET GLOBAL read_only = ON and
// before it saved the step: a resumed move that then rolls back must restore
// the read_only the source had before the move (recorded at the pre-checks),
// not the ON it finds. Before, both servers ended read-only.
TEST_F(SwitchoverTest, ResumedMoveThatRollsBackRestoresTheOriginalReadOnly) {
  const switchover::MoveState before = LoadState();
  ASSERT_FALSE(before.in_progress);
  ASSERT_FALSE(before.from_was_read_only);
  ASSERT_NO_FATAL_FAILURE(SaveMoveDiedInFence(before));
  ASSERT_TRUE(Root("source").Execute("SET GLOBAL read_only = ON"));  // what the dead orchestrator did

  TargetApplyBlock block(target());  // the resumed catch-up cannot finish: the move rolls back
  ASSERT_FALSE(HasFailure());
  switchover::SwitchoverOptions options = Options();
  options.catchup_timeout = milliseconds(500);
  options.max_pause = seconds(5);
  StepLog steps;
  auto r = switchover::ResumeSwitchover(options, steps);
  block.Release();
  ASSERT_FALSE(r) << "the catch-up was blocked\n" << steps.Text();
  fmt::print("[resume] rolled back as expected: {}\n{}", r.error().message(), steps.Text());
  EXPECT_TRUE(Contains(r.error().message(), "rolled back")) << r.error().message();
  EXPECT_EQ(ReadOnly("source"), "0") << "the source was writable before the move";
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"source"});
  EXPECT_FALSE(LoadState().in_progress);
  ExpectWorkloadProgress("after the rollback");
  FinishAndCheck("source", /*expect_no_errors=*/false);
}

// A move that stopped after reverse replication began (here: at the cascade,
// on a replica entry whose server is gone) is finished by --resume once the
// entry is removed. Before, the resume re-read the old primary's position,
// which by then held the new primary's own transactions, and every --resume
// failed. The old primary must not apply anything twice: verify compares.
TEST_F(SwitchoverTest, MoveStoppedAtTheCascadeIsFinishedByResume) {
  switchover::SwitchoverOptions with_dead_replica = Options();
  with_dead_replica.replicas.push_back(db::Endpoint{"127.0.0.1", ClosedPort(), "root", "nothing-listens"});
  StepLog steps;
  auto r = switchover::RunSwitchover(with_dead_replica, "target", steps);
  ASSERT_FALSE(r) << "the cascade cannot reach a closed port\n" << steps.Text();
  fmt::print("[switchover] stopped as expected: {}\n{}", r.error().message(), steps.Text());
  EXPECT_TRUE(Contains(r.error().message(), "--resume")) << r.error().message();
  switchover::MoveState stopped = LoadState();
  ASSERT_TRUE(stopped.in_progress);
  ASSERT_EQ(stopped.step, switchover::Step::kCascade);
  const std::string final_gtid = stopped.final_gtid;
  ExpectReplicatesFrom("source", "target");
  std::this_thread::sleep_for(milliseconds(500));  // the old primary applies some of the new primary's writes

  // Past the commit point --abort is refused, says what to run, and changes nothing.
  StepLog abort_steps;
  Status aborted = switchover::AbortSwitchover(Options(), abort_steps);
  ASSERT_FALSE(aborted) << "the target is already the primary\n" << abort_steps.Text();
  EXPECT_TRUE(Contains(aborted.error().message(), "--resume")) << aborted.error().message();
  EXPECT_TRUE(LoadState().in_progress);
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"target"});
  ExpectReplicatesFrom("source", "target");

  StepLog resume_steps;
  auto resumed = switchover::ResumeSwitchover(Options(), resume_steps);
  ASSERT_TRUE(resumed) << resumed.error().message() << "\n" << resume_steps.Text();
  fmt::print("[resume] finished the move:\n{}", resume_steps.Text());
  EXPECT_EQ(resumed->final_gtid, final_gtid) << "the recorded final position stands";
  EXPECT_FALSE(LoadState().in_progress);
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"target"});
  ExpectReplicatesFrom("source", "target");
  ExpectWorkloadProgress("after the resume");
  std::this_thread::sleep_for(seconds(1));
  ExpectIdentical("target", "source");

  StepLog back_steps;
  auto back = switchover::RunSwitchover(Options(), "source", back_steps);
  ASSERT_TRUE(back) << back.error().message() << "\n" << back_steps.Text();
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// 3b. The orchestrator dies after the fence; `switchover --abort` undoes the move.
TEST_F(SwitchoverTest, OrchestratorKilledAfterFenceThenAbort) {
  const std::string config = WriteConfig(/*catchup_timeout_ms=*/20000);
  TargetApplyBlock block(target());
  ASSERT_FALSE(HasFailure());
  KillOrchestratorDuringCatchUp(config);
  ASSERT_FALSE(HasFatalFailure());

  const auto start = Clock::now();
  CommandResult abort = RunShell(fmt::format("{} switchover --config {} --abort", CUTOVER_BINARY, config));
  fmt::print("[abort] exit {} after {:.0f} ms:\n{}", abort.exit_code, MsSince(start), abort.output);
  EXPECT_EQ(abort.exit_code, 0) << abort.output;
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"source"});
  EXPECT_FALSE(ProxyStatus().value("paused", true));
  EXPECT_EQ(ProxyStatus().value("primary", ""), Address("source"));
  switchover::MoveState state = LoadState();
  EXPECT_FALSE(state.in_progress);
  EXPECT_EQ(state.primary, "source");
  ExpectWorkloadProgress("after --abort");

  // The target never stopped being a replica; once unblocked it catches up.
  block.Release();
  ExpectReplicatesFrom("target", "source");
  db::Connection s = Root("source");
  db::Connection t = Root("target");
  auto gtid = replication::ReadBinlogGtid(s);
  ASSERT_TRUE(gtid) << gtid.error().message();
  Status caught_up = replication::WaitForGtid(t, *gtid, seconds(20));
  EXPECT_TRUE(caught_up) << caught_up.error().message();
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// 3a. The orchestrator dies after the fence; `switchover --resume` finishes the
// move, and `finish` releases the old primary.
TEST_F(SwitchoverTest, OrchestratorKilledAfterFenceThenResumeAndFinish) {
  const std::string config = WriteConfig(/*catchup_timeout_ms=*/20000);
  TargetApplyBlock block(target());
  ASSERT_FALSE(HasFailure());
  KillOrchestratorDuringCatchUp(config);
  MarkClusterDirty();  // finish makes the source unusable for later tests
  ASSERT_FALSE(HasFatalFailure());

  block.Release();
  const auto start = Clock::now();
  CommandResult resume = RunShell(fmt::format("{} switchover --config {} --resume", CUTOVER_BINARY, config));
  fmt::print("[resume] exit {} after {:.0f} ms:\n{}", resume.exit_code, MsSince(start), resume.output);
  ASSERT_EQ(resume.exit_code, 0) << resume.output;
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"target"});
  EXPECT_FALSE(ProxyStatus().value("paused", true));
  EXPECT_EQ(ProxyStatus().value("primary", ""), Address("target"));
  switchover::MoveState state = LoadState();
  EXPECT_FALSE(state.in_progress);
  EXPECT_EQ(state.primary, "target");
  ExpectReplicatesFrom("source", "target");
  ExpectWorkloadProgress("after --resume");

  StepLog finish_steps;
  Status finished = switchover::FinishMove(Options(), finish_steps);
  ASSERT_TRUE(finished) << finished.error().message();
  db::Connection old = Root("source");
  auto status = replication::ReadReplicaStatus(old);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_FALSE(status->configured) << "after finish the old primary no longer replicates: " << status->Describe();
  EXPECT_EQ(ReadOnly("source"), "1") << "the released old primary stays read-only";
  EXPECT_TRUE(LoadState().old_released);
  StepLog again_steps;
  auto rollback = switchover::RunSwitchover(Options(), "source", again_steps);
  EXPECT_FALSE(rollback) << "no rollback after finish";
  ExpectWorkloadProgress("after finish");
  FinishAndCheck("target", /*expect_no_errors=*/true);
}

// The orchestrator dies (SIGKILL, by the CUTOVER_TEST_KILL_AFTER_STEP hook) at
// every step of a switchover and of a rollback in turn. Without anyone's help
// the proxy ends the move when its lease runs out (max_pause_ms + 1 s): undone
// before the promotion, completed after it. Clients run again on exactly one
// writable server, and --abort or --resume then finishes the records.
TEST_F(SwitchoverTest, OrchestratorKilledAtEveryStepLeavesClientsRunningOnOnePrimary) {
  constexpr int64_t kMaxPauseMs = 500;
  const std::string config = WriteConfig(/*catchup_timeout_ms=*/10000, kMaxPauseMs);
  const auto run = [&](const std::string& command, const std::string& kill_after) {
    const std::string env = kill_after.empty() ? "" : "CUTOVER_TEST_KILL_AFTER_STEP=" + kill_after + " ";
    return RunShell(fmt::format("{}{} {} --config {}", env, CUTOVER_BINARY, command, config));
  };
  const auto move_to = [&](const std::string& role) {
    if (WritableServers() == std::vector<std::string>{role}) return;
    CommandResult r = run(role == "target" ? "switchover" : "rollback", "");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  };
  for (const std::string command : {"switchover", "rollback"}) {
    for (const std::string step : {"pause", "fence", "catch-up", "promote", "repoint"}) {
      const std::string from = command == "switchover" ? "source" : "target";
      const std::string to = command == "switchover" ? "target" : "source";
      ASSERT_NO_FATAL_FAILURE(move_to(from));
      const auto start = Clock::now();
      CommandResult killed = run(command, step);
      const double died_ms = MsSince(start);
      ASSERT_TRUE(Contains(killed.output, "killed after step " + step)) << killed.output;
      const auto died = Clock::now();
      bool paused = true;
      while (paused && Clock::now() - died < seconds(10)) {
        paused = ProxyStatus().value("paused", true);
        if (paused) std::this_thread::sleep_for(milliseconds(10));
      }
      const double resumed_ms = MsSince(died);
      const bool committed = step == "promote" || step == "repoint";
      const std::string primary = committed ? to : from;
      fmt::print("[{} killed after {}] the orchestrator died {:.0f} ms after it started; clients resumed {:.0f} ms "
                 "later on the {}\n",
                 command, step, died_ms, resumed_ms, primary);
      EXPECT_FALSE(paused) << command << " killed after " << step << ": clients are still paused";
      EXPECT_LT(resumed_ms, kMaxPauseMs + 1000 + 1500) << command << " killed after " << step;
      EXPECT_EQ(WritableServers(), std::vector<std::string>{primary}) << command << " killed after " << step;
      EXPECT_EQ(ProxyStatus().value("primary", ""), Address(primary)) << command << " killed after " << step;
      ExpectWorkloadProgress(command + " killed after " + step);
      CommandResult records = run(fmt::format("switchover {}", committed ? "--resume" : "--abort"), "");
      ASSERT_EQ(records.exit_code, 0) << command << " killed after " << step << ":\n" << records.output;
      EXPECT_FALSE(LoadState().in_progress);
      EXPECT_EQ(WritableServers(), std::vector<std::string>{primary});
      ASSERT_FALSE(HasFatalFailure());
    }
  }
  ASSERT_NO_FATAL_FAILURE(move_to("source"));
  FinishAndCheck("source", /*expect_no_errors=*/false);
}

// The orchestrator hangs (SIGSTOP after the fence) longer than its lease: the
// proxy undoes the move meanwhile, and when the orchestrator wakes up it exits 2
// saying that its lease ran out, not just "lost connection".
TEST_F(SwitchoverTest, OrchestratorStalledPastItsLeaseExitsSayingTheProxyEndedTheMove) {
  constexpr int64_t kMaxPauseMs = 500;
  const std::string config = WriteConfig(/*catchup_timeout_ms=*/10000, kMaxPauseMs);
  clone_tests::BackgroundCutover child(
      {"/usr/bin/env", "CUTOVER_TEST_STOP_AFTER_STEP=fence", CUTOVER_BINARY, "switchover", "--config", config});
  ASSERT_TRUE(child.WaitForOutput("stopped after step fence", seconds(60))) << child.output();
  const auto stopped = Clock::now();
  bool paused = true;
  while (paused && Clock::now() - stopped < seconds(10)) {
    paused = ProxyStatus().value("paused", true);
    if (paused) std::this_thread::sleep_for(milliseconds(10));
  }
  const double resumed_ms = MsSince(stopped);
  EXPECT_FALSE(paused) << "the proxy did not end the move of a stalled orchestrator";
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"source"});
  child.Signal(SIGCONT);
  const int exit_code = child.Wait(seconds(60));
  fmt::print("[stalled after fence] clients resumed {:.0f} ms after the stop; the orchestrator exited {}:\n{}",
             resumed_ms, exit_code, child.output());
  EXPECT_EQ(exit_code, 2) << child.output();
  EXPECT_TRUE(Contains(child.output(), "the proxy may have ended the move itself")) << child.output();
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"source"});
  EXPECT_EQ(ProxyStatus().value("primary", ""), Address("source"));
  ExpectWorkloadProgress("after the stalled orchestrator woke up");
  if (LoadState().in_progress) {  // the orchestrator may have finished its records itself
    CommandResult records = RunShell(fmt::format("{} switchover --config {} --abort", CUTOVER_BINARY, config));
    EXPECT_EQ(records.exit_code, 0) << records.output;
  }
  EXPECT_FALSE(LoadState().in_progress);
  FinishAndCheck("source", /*expect_no_errors=*/false);
}

// A move whose orchestrator died past the commit point, then both servers
// crashed and came back with the replica metadata a crash inside CHANGE MASTER
// leaves (an unreadable master.info: SHOW SLAVE STATUS empty, CHANGE MASTER
// failing with 1201): --resume repeats the promotion and sets up reverse
// replication over it, and --abort is refused. Before, every --resume failed.
TEST_F(SwitchoverTest, MoveResumedOverServersRestartedWithGarbageReplicaMetadata) {
  MarkClusterDirty();  // both servers are restarted
  constexpr int64_t kMaxPauseMs = 500;
  const std::string config = WriteConfig(/*catchup_timeout_ms=*/10000, kMaxPauseMs);
  CommandResult killed = RunShell(
      fmt::format("CUTOVER_TEST_KILL_AFTER_STEP=promote {} switchover --config {}", CUTOVER_BINARY, config));
  ASSERT_TRUE(Contains(killed.output, "killed after step promote")) << killed.output;
  const auto died = Clock::now();
  while (ProxyStatus().value("paused", true) && Clock::now() - died < seconds(10)) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(ProxyStatus().value("primary", ""), Address("target")) << "the proxy completes a promoted move";

  for (const std::string role : {"target", "source"}) {
    ASSERT_TRUE(Server(role).Stop());
    std::ofstream(Server(role).datadir() + "/master.info", std::ios::trunc) << "garbage\n";
    ASSERT_TRUE(Server(role).Restart());
  }
  // What the operator's my.cnf would say: the old primary stays read-only.
  ASSERT_TRUE(Root("source").Execute("SET GLOBAL read_only = ON"));
  db::Connection target_root = Root("target");
  auto status = replication::ReadReplicaStatus(target_root);
  ASSERT_TRUE(status) << status.error().message();
  ASSERT_FALSE(status->configured) << "the garbage master.info no longer hides from SHOW SLAVE STATUS";

  CommandResult aborted = RunShell(fmt::format("{} switchover --config {} --abort", CUTOVER_BINARY, config));
  EXPECT_NE(aborted.exit_code, 0) << aborted.output;
  EXPECT_TRUE(Contains(aborted.output, "--resume")) << aborted.output;

  CommandResult resumed = RunShell(fmt::format("{} switchover --config {} --resume", CUTOVER_BINARY, config));
  fmt::print("[resume over garbage replica metadata] exit {}:\n{}", resumed.exit_code, resumed.output);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_FALSE(LoadState().in_progress);
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"target"});
  ExpectReplicatesFrom("source", "target");
  ExpectWorkloadProgress("after the resume");
  FinishAndCheck("target", /*expect_no_errors=*/false);
}

// 2. The target dies while the orchestrator waits for it to catch up.
TEST_F(SwitchoverTest, TargetKilledDuringCatchUpRollsBack) {
  MarkClusterDirty();  // the target is gone afterwards
  TargetApplyBlock block(target());
  ASSERT_FALSE(HasFailure());
  switchover::SwitchoverOptions options = Options();
  options.catchup_timeout = seconds(5);
  options.max_pause = seconds(6);
  options.gate_timeout = milliseconds(0);  // no gate: the applier is blocked on purpose
  std::jthread killer;
  std::atomic<bool> killed{false};
  local::LocalServer* target_server = &target();
  StepLog steps([&](std::string_view step) {
    if (step != "fence") return;
    killer = std::jthread([&, target_server] {
      std::this_thread::sleep_for(milliseconds(500));
      target_server->Kill();
      killed = true;
    });
  });
  const auto start = Clock::now();
  auto r = switchover::RunSwitchover(options, "target", steps);
  const double took_ms = MsSince(start);
  if (killer.joinable()) killer.join();
  ASSERT_TRUE(killed) << "the target was never killed (no fence step?)\n" << steps.Text();
  ASSERT_FALSE(r) << "the switchover cannot succeed without its target\n" << steps.Text();
  const std::string message = r.error().message();
  fmt::print("[switchover] failed after {:.0f} ms as expected: {}\n{}", took_ms, message, steps.Text());
  EXPECT_TRUE(Contains(message, "rolled back")) << message;
  EXPECT_LT(took_ms, 5000) << "the dead target is noticed before the catch-up timeout";

  EXPECT_FALSE(target().running());
  EXPECT_EQ(ReadOnly("source"), "0") << "the source is unfenced";
  EXPECT_FALSE(ProxyStatus().value("paused", true));
  EXPECT_EQ(ProxyStatus().value("primary", ""), Address("source"));
  switchover::MoveState state = LoadState();
  EXPECT_FALSE(state.in_progress);
  EXPECT_EQ(state.primary, "source");
  ExpectWorkloadProgress("after the automatic rollback");
  // Errors during the window would be acceptable if nothing acknowledged was
  // lost; FinishAndCheck prints what the clients saw.
  FinishAndCheck("source", /*expect_no_errors=*/false);
}


// A target that stops answering inside the pause (a hung server, or a network
// that drops packets) fails the move within the bound its timeout_s sets,
// naming it; the move is undone and clients resume on the source. Stopped
// right after the fence, the catch-up read meets the stall (or, when SIGSTOP
// lands late, the promotion); stopped right after catch-up, the promotion
// always does: its statement waits unread on the stopped server, and after
// SIGCONT it must not make the target writable behind the rollback. After
// SIGCONT the same move succeeds.
TEST_F(SwitchoverTest, TargetStalledInsideThePauseRollsBackWithinItsTimeout) {
  for (const std::string_view stall_after : {"fence", "catch-up"}) {
    SCOPED_TRACE(fmt::format("target stopped after step {}", stall_after));
    switchover::SwitchoverOptions options = Options();
    options.target.admin.timeout = seconds(2);
    const pid_t target_pid = target().pid();
    std::atomic<bool> stopped{false};
    StepLog steps([&](std::string_view step) {
      if (step != stall_after) return;
      stopped = ::kill(target_pid, SIGSTOP) == 0;
    });
    const auto start = Clock::now();
    auto r = switchover::RunSwitchover(options, "target", steps);
    const double took_ms = MsSince(start);
    const bool resumed = ::kill(target_pid, SIGCONT) == 0;
    ASSERT_TRUE(resumed);
    ASSERT_TRUE(stopped) << "the target was never stopped (no " << stall_after << " step?)\n" << steps.Text();
    ASSERT_FALSE(r) << "the move cannot finish while the target is stalled\n" << steps.Text();
    const std::string message = r.error().message();
    fmt::print("[switchover] failed after {:.0f} ms as expected: {}\n{}", took_ms, message, steps.Text());
    EXPECT_TRUE(Contains(message, "rolled back")) << message;
    EXPECT_TRUE(Contains(message, Address("target"))) << message;
    EXPECT_TRUE(Contains(message, "no answer within 2 s")) << message;
    // The stalled read, then the undo's new session to the target: 2 s each.
    EXPECT_LT(took_ms, 15000) << steps.Text();
    // The statement left unread runs now, on a server that woke after its
    // deadline: watch for it making the target writable.
    for (int i = 0; i < 15; ++i) {
      ASSERT_EQ(WritableServers(), std::vector<std::string>{"source"}) << "after " << i * 100 << " ms";
      std::this_thread::sleep_for(milliseconds(100));
    }
    EXPECT_FALSE(ProxyStatus().value("paused", true));
    EXPECT_EQ(ProxyStatus().value("primary", ""), Address("source"));
    EXPECT_FALSE(LoadState().in_progress);
    ExpectWorkloadProgress("after the automatic rollback");
  }

  StepLog again;
  auto moved = switchover::RunSwitchover(Options(), "target", again);
  ASSERT_TRUE(moved) << moved.error().message() << "\n" << again.Text();
  StepLog back;
  auto returned = switchover::RunSwitchover(Options(), "source", back);
  ASSERT_TRUE(returned) << returned.error().message() << "\n" << back.Text();
  FinishAndCheck("source", /*expect_no_errors=*/true);
}


// A burst of DDL from an admin session straight to the primary, while a
// switchover and then a rollback run. A statement the fence holds back must
// fail, not commit on the old primary after the final position (which the new
// primary never sees): afterwards both servers have identical schemas and
// neither holds a transaction the other lacks. A privileged write to the old
// primary after the move (which no server setting can stop) is then found and
// named by replication status, verify and the next move's pre-checks.
TEST_F(SwitchoverTest, DdlBurstStraightToThePrimaryCannotSlipPastTheFence) {
  {
    db::Connection root = Root("source");
    Status created = root.Execute("CREATE DATABASE IF NOT EXISTS ddl");
    ASSERT_TRUE(created) << created.error().message();
  }
  for (const std::string to : {"target", "source"}) {
    const std::string from = to == "target" ? "source" : "target";
    DdlBurst burst(Server(from).RootEndpoint(), "to_" + to + "_");
    std::this_thread::sleep_for(milliseconds(300));
    // The burst stops once the move has resumed clients: its statement in
    // flight then waits on the fence, which lifts in reverse replication.
    StepLog steps([&](std::string_view step) {
      if (step == "resume") burst.RequestStop();
    });
    // The pre-checks refuse a move while DDL runs: retried, as a DBA would,
    // until one starts between two statements.
    auto moved = switchover::RunSwitchover(Options(), to, steps);
    int refusals = 0;
    for (; !moved && Contains(moved.error().message(), "DDL is running") && refusals < 100; ++refusals) {
      EXPECT_EQ(WritableServers(), std::vector<std::string>{from});
      std::this_thread::sleep_for(milliseconds(20));
      moved = switchover::RunSwitchover(Options(), to, steps);
    }
    burst.Stop();
    ASSERT_TRUE(moved) << moved.error().message() << "\n" << steps.Text();
    fmt::print("[ddl burst to the {}] the pre-checks refused the move {} time(s) (DDL running)\n", from, refusals);
    ASSERT_EQ(burst.setup_error(), "");
    const std::string held = Contains(steps.Text(), "waited on the fence") ? "one held at the fence and killed"
                                                                           : "none held at the fence";
    fmt::print("[ddl burst to the {}] {} statement(s) acknowledged, {}; failures: {}\n{}", from, burst.acknowledged(),
               held, fmt::join(burst.failures(), " | "), steps.Text());
    EXPECT_GT(burst.acknowledged(), 0);
    {
      db::Connection new_primary = Root(to);
      db::Connection old_primary = Root(from);
      auto errant = replication::ErrantGtids(old_primary, new_primary);
      ASSERT_TRUE(errant) << errant.error().message();
      EXPECT_TRUE(errant->empty()) << "the old primary committed after the final position: "
                                   << replication::FormatGtidList(*errant);
    }
    ExpectReplicatesFrom(from, to);
    std::this_thread::sleep_for(seconds(1));
    const std::string tables_sql =
        "SELECT GROUP_CONCAT(CONCAT(TABLE_NAME, ':', COLUMN_NAME) ORDER BY TABLE_NAME, COLUMN_NAME) "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'ddl'";
    db::Connection a = Root(to), b = Root(from);
    EXPECT_EQ(a.QueryValue(tables_sql)->value_or(""), b.QueryValue(tables_sql)->value_or(""))
        << "the servers' ddl schemas differ after the move to the " << to;
  }

  // Past the move, a SUPER session writes to the old primary (now a
  // read-only replica) directly: errant, and found.
  MarkClusterDirty();  // the replica keeps that transaction
  {
    db::Connection replica = Root("target");
    Status wrote = replica.Execute("CREATE TABLE ddl.stray (id INT PRIMARY KEY)");
    ASSERT_TRUE(wrote) << wrote.error().message();
  }
  const std::string config = WriteConfig();
  CommandResult status = RunShell(fmt::format("{} replication status --config {}", CUTOVER_BINARY, config));
  EXPECT_EQ(status.exit_code, 1) << status.output;
  EXPECT_TRUE(Contains(status.output, "ERRANT")) << status.output;
  CommandResult verify = RunShell(fmt::format("{} verify --config {}", CUTOVER_BINARY, config));
  EXPECT_NE(verify.exit_code, 0) << verify.output;
  EXPECT_TRUE(Contains(verify.output, "errant")) << verify.output;
  StepLog refused_steps;
  auto refused = switchover::RunSwitchover(Options(), "target", refused_steps);
  ASSERT_FALSE(refused) << refused_steps.Text();
  EXPECT_TRUE(Contains(refused.error().message(), "never had: GTID")) << refused.error().message();
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"source"});
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

}  // namespace
}  // namespace cutover::testing::switchover_tests
