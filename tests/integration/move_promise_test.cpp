// The move keeps its promise under conditions production has: moves back and
// forth on freshly installed servers (with mariadb-install-db's empty `test`
// schema), a replica seconds behind, a replica that cannot catch up within the
// pause budget, an errant transaction on the target, and thousands of idle
// sessions with session state. Real servers, the proxy in-process, the proof
// workload writing through it (see switchover_fixture.h).
#include <sys/resource.h>

#include <future>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "switchover_fixture.h"

namespace cutover::testing::switchover_tests {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class MovePromiseTest : public SwitchoverFixture {
 protected:
  // One switchover (to "target") or rollback (to "source"); fails the test
  // when it fails. Returns the clients' pause.
  double Move(const std::string& to, const switchover::SwitchoverOptions& options) {
    StepLog steps;
    auto r = switchover::RunSwitchover(options, to, steps);
    EXPECT_TRUE(r) << "move to the " << to << ": " << (r ? "" : r.error().message()) << "\n" << steps.Text();
    if (!r) return -1;
    fmt::print("[move] to the {}: clients paused {:.1f} ms\n{}", to, r->client_pause_ms, steps.Text());
    EXPECT_EQ(WritableServers(), std::vector<std::string>{to});
    EXPECT_EQ(ProxyStatus().value("primary", ""), Address(to));
    EXPECT_EQ(ProxyStatus().value("standbys", -1), 0) << "a committed move leaves no standby connection";
    return r->client_pause_ms;
  }
};

// Four moves back and forth with no client writing (the servers come from
// mariadb-install-db with its empty `test` schema, and the target was cloned
// onto it), then two under load: every move succeeds and stalls no one for
// a second, nothing is lost, one server is writable.
TEST_F(MovePromiseTest, MovesBackAndForthIdleAndLoaded) {
  db::Connection target_root = Root("target");
  auto test_schema = target_root.QueryValue("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='test'");
  ASSERT_TRUE(test_schema && *test_schema);
  EXPECT_EQ(**test_schema, "1") << "servers are made as mariadb-install-db makes them, with an empty test schema";

  const switchover::SwitchoverOptions options = Options();
  auto idle = workload_->Report();  // stops the clients: idle servers
  for (const char* to : {"target", "source", "target", "source"}) {
    const double pause = Move(to, options);
    ASSERT_GE(pause, 0) << "idle move to the " << to;
    EXPECT_LT(pause, 1000);
  }
  // A new workload writes through the proxy for the loaded moves.
  workload::WorkloadOptions w;
  w.endpoint = ProxyEndpoint();
  w.clients = 8;
  w.rate = 300;
  w.duration = milliseconds(0);
  workload_ = std::make_unique<workload::Workload>(w);
  ASSERT_TRUE(workload_->Start());
  std::this_thread::sleep_for(milliseconds(500));
  for (const char* to : {"target", "source"}) {
    const double pause = Move(to, options);
    ASSERT_GE(pause, 0) << "loaded move to the " << to;
    EXPECT_LT(pause, 1000);
    ExpectWorkloadProgress(std::string("after the move to the ") + to);
  }
  const workload::WorkloadReport report = FinishAndCheck("source", /*expect_no_errors=*/true);
  EXPECT_LT(report.longest_op_ms, 1000) << "no client stalls for a second";
}

// The target's SQL thread stops for 5 s while the clients write, then starts:
// the switchover waits at the catch-up gate with nobody paused, then moves
// with a short pause.
TEST_F(MovePromiseTest, ReplicaSecondsBehindIsWaitedForBeforeThePause) {
  db::Connection target_root = Root("target");
  ASSERT_TRUE(target_root.Execute("STOP SLAVE SQL_THREAD"));
  std::this_thread::sleep_for(seconds(5));
  ASSERT_TRUE(target_root.Execute("START SLAVE SQL_THREAD"));

  StepLog steps;
  auto r = switchover::RunSwitchover(Options(), "target", steps);
  ASSERT_TRUE(r) << r.error().message() << "\n" << steps.Text();
  fmt::print("[switchover] after a 5 s lag: clients paused {:.1f} ms\n{}", r->client_pause_ms, steps.Text());
  EXPECT_TRUE(Contains(steps.Text(), "catch-up gate")) << steps.Text();
  EXPECT_LT(r->client_pause_ms, 500) << "the pause does not include the backlog";
  ExpectWorkloadProgress("after the switchover");

  StepLog back_steps;
  auto back = switchover::RunSwitchover(Options(), "source", back_steps);
  ASSERT_TRUE(back) << back.error().message() << "\n" << back_steps.Text();
  const workload::WorkloadReport report = FinishAndCheck("source", /*expect_no_errors=*/true);
  EXPECT_LT(report.longest_op_ms, 1000);
}

// The target's applier is blocked right after the gate passed, so the
// catch-up inside the pause cannot finish within max_pause_ms: clients resume
// on the old primary within the budget, with no error. The first time the
// block is lifted when the move retries, and the retry succeeds; the second
// time it stays, and the move gives up saying why.
TEST_F(MovePromiseTest, CatchUpOverThePauseBudgetResumesOnTheOldPrimaryAndRetries) {
  switchover::SwitchoverOptions options = Options();
  options.max_pause = milliseconds(400);
  options.attempts = 2;
  std::unique_ptr<TargetApplyBlock> block;
  int gates = 0;
  StepLog steps([&](std::string_view step) {
    if (step == "catch-up gate" && ++gates == 1) block = std::make_unique<TargetApplyBlock>(target());
    if (step == "retry") block.reset();
  });
  auto r = switchover::RunSwitchover(options, "target", steps);
  block.reset();
  ASSERT_TRUE(r) << r.error().message() << "\n" << steps.Text();
  fmt::print("[switchover] retried once, clients paused {:.1f} ms\n{}", r->client_pause_ms, steps.Text());
  EXPECT_TRUE(Contains(steps.Text(), "retry: attempt 2 of 2")) << steps.Text();
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"target"});

  // Back to the source, with the block never lifted: it gives up.
  options.attempts = 1;
  gates = 0;
  StepLog back_steps([&](std::string_view step) {
    if (step == "catch-up gate" && ++gates == 1) block = std::make_unique<TargetApplyBlock>(source());
  });
  auto back = switchover::RunSwitchover(options, "source", back_steps);
  block.reset();
  ASSERT_FALSE(back) << "the source could not catch up within the pause budget\n" << back_steps.Text();
  fmt::print("[rollback] gave up as expected: {}\n{}", back.error().message(), back_steps.Text());
  EXPECT_TRUE(Contains(back.error().message(), "gave up after 1 attempt")) << back.error().message();
  EXPECT_TRUE(Contains(back.error().message(), "pause budget")) << back.error().message();
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"target"});
  EXPECT_FALSE(LoadState().in_progress);
  EXPECT_EQ(ProxyStatus().value("standbys", -1), 0) << "a move that gave up closes its standby connections";
  ExpectWorkloadProgress("after giving up");

  StepLog last;
  auto rollback = switchover::RunSwitchover(Options(), "source", last);
  ASSERT_TRUE(rollback) << rollback.error().message() << "\n" << last.Text();
  const workload::WorkloadReport report = FinishAndCheck("source", /*expect_no_errors=*/true);
  EXPECT_LT(report.longest_op_ms, 1500) << "every pause ended within its budget";
}

// A transaction written on the target directly (binlogged there, never on the
// source) is refused at the pre-checks, naming its GTID; nothing changes.
TEST_F(MovePromiseTest, ErrantTransactionOnTheTargetIsRefusedNamingIt) {
  db::Connection target_root = Root("target");
  ASSERT_TRUE(target_root.Execute("CREATE DATABASE written_on_the_replica"));
  auto gtid = target_root.QueryValue("SELECT @@GLOBAL.gtid_binlog_pos");
  ASSERT_TRUE(gtid && *gtid);
  auto server_id = target_root.QueryValue("SELECT @@GLOBAL.server_id");
  ASSERT_TRUE(server_id && *server_id);
  StepLog steps;
  auto r = switchover::RunSwitchover(Options(), "target", steps);
  ASSERT_FALSE(r) << steps.Text();
  const std::string message = r.error().message();
  fmt::print("[switchover] refused as expected: {}\n", message);
  EXPECT_TRUE(Contains(message, "-" + **server_id + "-")) << "names the errant GTID: " << message;
  EXPECT_TRUE(Contains(message, "RESET MASTER")) << "says the way out: " << message;
  EXPECT_EQ(WritableServers(), std::vector<std::string>{"source"});
  EXPECT_FALSE(ProxyStatus().value("paused", true));
  ASSERT_TRUE(target_root.Execute("SET sql_log_bin = 0"));
  ASSERT_TRUE(target_root.Execute("DROP DATABASE written_on_the_replica"));
  MarkClusterDirty();  // the target's binary log keeps the errant GTID
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

// Raises this process's open-files limit: each session is a client socket
// here and, in the in-process proxy, a client, a backend and a standby socket.
void RaiseOpenFiles(rlim_t wanted) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur >= wanted) return;
  rlimit raised{wanted, std::max(wanted, limit.rlim_max)};
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {  // not root: up to the hard limit
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_GE(limit.rlim_cur, wanted) << "the test needs an open-files limit of " << wanted << " (ulimit -n)";
}

// Whole and half hours only: MariaDB 10.11 caches offset time zones so that
// some offsets alias others (SET time_zone = '+08:10' after '+05:54' was used
// reads back '+05:54', straight to the server too).
std::string Zone(int i) { return fmt::format("+{:02}:{:02}", i % 13, (i / 13) % 2 * 30); }

// 2,000 idle sessions, each with its own time zone, sql_mode, schema and a
// prepared statement: after a switchover and a rollback every one answers
// with its state intact, and the pause stays short.
TEST_F(MovePromiseTest, TwoThousandSessionsKeepTheirStateAcrossBothMoves) {
  constexpr int kSessions = 2000;
  RaiseOpenFiles(4 * kSessions + 1000);
  std::vector<db::Connection> sessions;
  sessions.reserve(kSessions);
  const auto open_start = Clock::now();
  for (int i = 0; i < kSessions; ++i) {
    auto c = db::Connection::Connect(ProxyEndpoint());
    ASSERT_TRUE(c) << "session " << i << ": " << c.error().message();
    const std::string zone = Zone(i);
    const std::string mode = i % 2 ? "ANSI_QUOTES" : "NO_ZERO_DATE";
    ASSERT_TRUE(c->Execute(fmt::format("SET time_zone = '{}', sql_mode = '{}'", zone, mode)));
    if (i % 3 == 0) {
      ASSERT_TRUE(c->Execute("USE shop"));
    }
    sessions.push_back(std::move(*c));
  }
  fmt::print("[sessions] {} opened in {:.1f} s\n", kSessions,
             std::chrono::duration<double>(Clock::now() - open_start).count());
  auto check = [&](const char* when) {
    int wrong = 0;
    std::string first;
    for (int i = 0; i < kSessions; ++i) {
      auto r = sessions[i].Query("SELECT @@time_zone, @@sql_mode, IFNULL(DATABASE(), '')");
      const std::string zone = Zone(i);
      const std::string mode = i % 2 ? "ANSI_QUOTES" : "NO_ZERO_DATE";
      const std::string schema = i % 3 == 0 ? "shop" : "";
      const bool ok = r && r->rows.size() == 1 && r->rows[0][0].value_or("") == zone &&
                      r->rows[0][1].value_or("") == mode && r->rows[0][2].value_or("?") == schema;
      if (!ok && wrong++ == 0) {
        first = r ? fmt::format("session {}: {} / {} / {}", i, r->rows[0][0].value_or("NULL"),
                                r->rows[0][1].value_or("NULL"), r->rows[0][2].value_or("NULL"))
                  : fmt::format("session {}: {}", i, r.error().message());
      }
    }
    EXPECT_EQ(wrong, 0) << when << ": sessions with lost state, e.g. " << first;
  };
  check("before the moves");
  EXPECT_EQ(Move("target", Options()) < 1000, true);
  check("after the switchover");
  EXPECT_EQ(Move("source", Options()) < 1000, true);
  check("after the rollback");
  sessions.clear();
  FinishAndCheck("source", /*expect_no_errors=*/true);
}

}  // namespace
}  // namespace cutover::testing::switchover_tests
