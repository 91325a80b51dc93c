// `cutover verify` against real servers: a target made a replica of the source
// by `cutover clone`, compared while identical, after corruption written on
// the target outside replication, under a sysbench write load on the source,
// with the target's replication stopped, and with the target killed mid-run.
// Each test reads the JSON report (`--json`, its last line of stdout) and
// asserts the exact set of reported keys.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "proxy_fixture.h"
#include "verify/chunk_walker.h"
#include "verify_fixture.h"

namespace cutover::testing {
namespace {

using std::chrono::seconds;

constexpr uint64_t kSbtestRows = 20000;
constexpr uint64_t kDiesSbtestRows = 100000;

const std::map<std::string, std::string> kAllIdentical = {
    {"kinds.log", "identical"},      {"kinds.regions", "identical"},  {"kinds.types", "identical"},
    {"sbtest.sbtest1", "identical"}, {"sbtest.sbtest2", "identical"},
};

uint64_t SourceSeq(const std::string& gtid) {
  const size_t dash = gtid.rfind('-');
  return dash == std::string::npos ? 0 : std::stoull(gtid.substr(dash + 1));
}

// The "tps: N" of every per-second line sysbench printed with --report-interval=1.
std::vector<double> SysbenchTps(const std::string& output) {
  std::vector<double> out;
  static const std::regex kLine(R"(\[ *\d+s \] thds: \d+ tps: ([0-9.]+))");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), kLine); it != std::sregex_iterator(); ++it) {
    out.push_back(std::stod((*it)[1]));
  }
  return out;
}

// Servers shared by the tests of this suite: each test leaves them as it found
// them (identical, target replicating).
class VerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { servers_ = VerifyServers::Create(kSbtestRows); }
  static void TearDownTestSuite() { servers_.reset(); }

  void SetUp() override { ASSERT_NE(servers_, nullptr) << "source and target could not be set up (see above)"; }

  static inline std::unique_ptr<VerifyServers> servers_;
};

TEST_F(VerifyTest, IdenticalServersExitZeroWithEveryTableIdentical) {
  const VerifyOutcome v = servers_->Verify();

  EXPECT_EQ(v.exit_code, 0) << v.Describe();
  ASSERT_TRUE(v.has_report()) << v.Describe();
  EXPECT_EQ(v.last["identical"], true);
  EXPECT_EQ(v.Results(), kAllIdentical) << v.Describe();
  EXPECT_EQ(v.Differences(), std::set<std::string>{});
  // Every row was compared.
  EXPECT_EQ(v.Table("sbtest.sbtest1")["rows"], kSbtestRows);
  EXPECT_EQ(v.Table("sbtest.sbtest2")["rows"], kSbtestRows);
  EXPECT_EQ(v.Table("kinds.types")["rows"], 300);
  EXPECT_EQ(v.Table("kinds.regions")["rows"], 200);
  EXPECT_EQ(v.Table("kinds.log")["rows"], 200);
  EXPECT_EQ(v.Table("kinds.log")["keyless"], true);
  EXPECT_EQ(servers_->WaitReplicationRunning(), "Yes/Yes") << "verify left the target's replication stopped";
}

TEST_F(VerifyTest, ReportsExactlyTheRowsCorruptedOnTheTarget) {
  {
    TargetCorruption c(*servers_);
    c.Save("sbtest.sbtest1", "id = 100");
    c.Exec("UPDATE sbtest.sbtest1 SET k = k + 1 WHERE id = 100");
    c.Save("sbtest.sbtest2", "id IN (200, -5, 50000)");
    c.Exec("DELETE FROM sbtest.sbtest2 WHERE id = 200");
    // One extra row below the smallest key and one above the largest: the
    // first and last chunks are open-ended.
    c.Exec("INSERT INTO sbtest.sbtest2 (id, k, c, pad) VALUES (-5, 1, 'extra', 'extra'), (50000, 2, 'extra', 'x')");
    c.Save("kinds.types", "id IN (3, 4, 5, 6)");
    c.Exec("UPDATE kinds.types SET note = '' WHERE id = 3");        // was NULL
    c.Exec("UPDATE kinds.types SET name = 'A' WHERE id = 4");       // was 'a'
    c.Exec("UPDATE kinds.types SET name = 'trail ' WHERE id = 5");  // was 'trail'
    ASSERT_EQ(c.Value("SELECT HEX(SUBSTRING(data, 202, 1)) FROM kinds.types WHERE id = 6"), "FF");
    c.Exec("UPDATE kinds.types SET data = INSERT(data, 202, 1, X'FE') WHERE id = 6");
    c.Save("kinds.regions", "region = 'x' AND n = 3");
    c.Exec("UPDATE kinds.regions SET label = 'changed' WHERE region = 'x' AND n = 3");
    c.Save("kinds.log", "a = 7");
    c.Exec("UPDATE kinds.log SET msg = 'changed' WHERE a = 7 LIMIT 1");  // one of its two copies
    // What makes these hard: the collation calls the changed values equal.
    ASSERT_EQ(c.Value("SELECT COUNT(*) FROM kinds.types WHERE id = 4 AND name = 'a'"), "1");
    ASSERT_EQ(c.Value("SELECT COUNT(*) FROM kinds.types WHERE id = 5 AND name = 'trail'"), "1");
    ASSERT_EQ(c.Value("SELECT LENGTH(data) FROM kinds.types WHERE id = 6"), "416");

    const VerifyOutcome v = servers_->Verify();

    EXPECT_EQ(v.exit_code, 1) << v.Describe();
    ASSERT_TRUE(v.has_report()) << v.Describe();
    EXPECT_EQ(v.last["identical"], false);
    const std::set<std::string> expected = {
        "sbtest.sbtest1 100 changed",
        "sbtest.sbtest2 200 missing on target",
        "sbtest.sbtest2 -5 extra on target",
        "sbtest.sbtest2 50000 extra on target",
        "kinds.types 3 changed",
        "kinds.types 4 changed",
        "kinds.types 5 changed",
        "kinds.types 6 changed",
        "kinds.regions ('x', 3) changed",
    };
    EXPECT_EQ(v.Differences(), expected) << v.Describe();
    const std::map<std::string, std::string> results = {
        {"kinds.log", "DIFFERENT"},      {"kinds.regions", "DIFFERENT"},  {"kinds.types", "DIFFERENT"},
        {"sbtest.sbtest1", "DIFFERENT"}, {"sbtest.sbtest2", "DIFFERENT"},
    };
    EXPECT_EQ(v.Results(), results) << v.Describe();
    EXPECT_EQ(v.Table("sbtest.sbtest1")["differing_rows"], 1);
    EXPECT_EQ(v.Table("sbtest.sbtest2")["differing_rows"], 3);
    EXPECT_EQ(v.Table("kinds.types")["differing_rows"], 4);
    EXPECT_EQ(v.Table("kinds.regions")["differing_rows"], 1);
    // No key: the changed copy counts as one row missing and one extra, unnamed.
    const nlohmann::json log = v.Table("kinds.log");
    EXPECT_EQ(log["keyless"], true);
    EXPECT_EQ(log["differing_rows"], 2) << v.Describe();
    EXPECT_EQ(log["differences"], nlohmann::json::array());
    EXPECT_EQ(servers_->WaitReplicationRunning(), "Yes/Yes") << "verify left the target's replication stopped";
  }
  // The rows are back as they were: nothing differs any more.
  const VerifyOutcome repaired = servers_->Verify();
  EXPECT_EQ(repaired.exit_code, 0) << repaired.Describe();
  EXPECT_EQ(repaired.Results(), kAllIdentical) << repaired.Describe();
}

// The test prints the sysbench rate it saw. On the development machine (2
// sysbench threads, --rate=0, source and target on the same host) it was 600
// to 1700 transactions/s on average, 250 to 1050 of them committed during each
// verify run.
TEST_F(VerifyTest, IdenticalThreeTimesInARowUnderSysbenchWriteLoad) {
  auto sysbench = servers_->StartSysbench(/*seconds=*/120, /*threads=*/2);
  ASSERT_TRUE(sysbench->started());
  ASSERT_TRUE(sysbench->WaitForStdout("[ 1s ]", seconds(20))) << sysbench->Stdout() << sysbench->Stderr();
  db::Connection source = servers_->ConnectSource();

  // The default, more sessions, and one session with many small chunks.
  const std::vector<std::vector<std::string>> options = {
      {}, {"--threads", "4"}, {"--threads", "1", "--chunk-time-ms", "10"}};
  for (int run = 1; run <= 3; ++run) {
    const uint64_t before = SourceSeq(VerifySqlValue(source, "SELECT @@GLOBAL.gtid_binlog_pos"));
    const VerifyOutcome v = servers_->Verify(options[run - 1]);
    const uint64_t after = SourceSeq(VerifySqlValue(source, "SELECT @@GLOBAL.gtid_binlog_pos"));

    EXPECT_EQ(v.exit_code, 0) << "run " << run << ": " << v.Describe();
    EXPECT_EQ(v.Results(), kAllIdentical) << "run " << run << ": " << v.Describe();
    EXPECT_EQ(v.Differences(), std::set<std::string>{}) << "run " << run;
    // The load really ran while verify compared.
    EXPECT_GE(after - before, 50u) << "run " << run << ": the source committed only " << after - before
                                   << " transactions during verify";
    std::printf("verify run %d under load: exit %d, %llu source transactions during the run, %s s, %s rounds\n", run,
                v.exit_code, static_cast<unsigned long long>(after - before),
                v.has_report() ? v.last["total_s"].dump().c_str() : "?",
                v.has_report() ? v.last["rounds"].dump().c_str() : "?");
    EXPECT_EQ(servers_->WaitReplicationRunning(), "Yes/Yes") << "run " << run;
  }

  ASSERT_TRUE(sysbench->WaitForStdout("[ 2s ]", seconds(5)));
  sysbench->Signal(SIGKILL);  // the rates are in its per-second lines
  sysbench->Wait(seconds(10));
  const std::vector<double> tps = SysbenchTps(sysbench->Stdout());
  ASSERT_FALSE(tps.empty()) << sysbench->Stdout();
  double sum = 0, low = tps.front();
  for (double t : tps) sum += t, low = std::min(low, t);
  std::printf("sysbench tps while verify ran: average %.0f, lowest %.0f over %zu s\n", sum / tps.size(), low,
              tps.size());
  RecordProperty("sysbench_average_tps", static_cast<int>(sum / tps.size()));
  EXPECT_GE(sum / tps.size(), 200) << "too little load for this test to mean anything:\n" << sysbench->Stdout();
  servers_->WaitCaughtUp();
  EXPECT_EQ(sysbench->Stderr(), "");
}

// Differences and a write load at once: the rows sysbench keeps changing are
// never reported, the corrupted rows it does not touch always are.
TEST_F(VerifyTest, UnderWriteLoadReportsExactlyTheCorruptedRows) {
  TargetCorruption c(*servers_);
  c.Save("kinds.types", "id IN (10, 11)");
  c.Exec("UPDATE kinds.types SET note = 'changed' WHERE id = 10");
  c.Exec("DELETE FROM kinds.types WHERE id = 11");
  c.Save("kinds.regions", "region = 'eu' AND n = 7");
  c.Exec("UPDATE kinds.regions SET v = -1 WHERE region = 'eu' AND n = 7");
  // Above every id sysbench writes (it deletes and re-inserts ids up to the table size).
  c.Save("sbtest.sbtest1", "id = 30000");
  c.Exec("INSERT INTO sbtest.sbtest1 (id, k, c, pad) VALUES (30000, 1, 'extra', 'extra')");
  auto sysbench = servers_->StartSysbench(/*seconds=*/120, /*threads=*/2);
  ASSERT_TRUE(sysbench->WaitForStdout("[ 1s ]", seconds(20))) << sysbench->Stdout() << sysbench->Stderr();

  const VerifyOutcome v = servers_->Verify();

  sysbench->Signal(SIGKILL);
  sysbench->Wait(seconds(10));
  EXPECT_EQ(v.exit_code, 1) << v.Describe();
  const std::set<std::string> expected = {
      "kinds.types 10 changed",
      "kinds.types 11 missing on target",
      "kinds.regions ('eu', 7) changed",
      "sbtest.sbtest1 30000 extra on target",
  };
  EXPECT_EQ(v.Differences(), expected) << v.Describe();
  const std::map<std::string, std::string> results = {
      {"kinds.log", "identical"},      {"kinds.regions", "DIFFERENT"},  {"kinds.types", "DIFFERENT"},
      {"sbtest.sbtest1", "DIFFERENT"}, {"sbtest.sbtest2", "identical"},
  };
  EXPECT_EQ(v.Results(), results) << v.Describe();
  EXPECT_EQ(v.Table("sbtest.sbtest1")["differing_rows"], 1) << v.Describe();
  EXPECT_EQ(servers_->WaitReplicationRunning(), "Yes/Yes");
  servers_->WaitCaughtUp();
}

// Under a case-insensitive collation 'x' and 'X' are the same key to SQL, but
// not the same bytes: the target's row is not the source's.
TEST_F(VerifyTest, KeyThatDiffersOnlyInLetterCaseIsReported) {
  TargetCorruption c(*servers_);
  c.Save("kinds.regions", "region = 'x' AND n = 3");
  c.Exec("UPDATE kinds.regions SET region = 'X' WHERE region = 'x' AND n = 3");
  ASSERT_EQ(c.Value("SELECT region FROM kinds.regions WHERE region = 'x' AND n = 3"), "X");

  const VerifyOutcome v = servers_->Verify();

  EXPECT_EQ(v.exit_code, 1) << v.Describe();
  const std::set<std::string> expected = {
      "kinds.regions ('x', 3) missing on target",
      "kinds.regions ('X', 3) extra on target",
  };
  EXPECT_EQ(v.Differences(), expected) << v.Describe();
  EXPECT_EQ(servers_->WaitReplicationRunning(), "Yes/Yes");
}

TEST_F(VerifyTest, StoppedReplicationIsRefusedAndLeftAlone) {
  auto target = servers_->target().ConnectRoot();
  ASSERT_TRUE(target) << target.error().message();
  VerifySqlExec(*target, "STOP SLAVE");
  struct Restart {
    db::Connection& conn;
    ~Restart() { (void)conn.Execute("START SLAVE"); }
  } restart{*target};

  const VerifyOutcome v = servers_->Verify();

  EXPECT_EQ(v.exit_code, 2) << v.Describe();
  ASSERT_TRUE(v.last.is_object()) << v.Describe();
  EXPECT_EQ(v.last["event"], "error") << v.Describe();
  EXPECT_EQ(v.last["code"], "precondition") << v.Describe();
  const std::string message = v.last.value("message", "");
  EXPECT_NE(message.find("replication"), std::string::npos) << message;
  EXPECT_NE(message.find("not running"), std::string::npos) << message;
  EXPECT_NE(message.find(fmt::format("target 127.0.0.1:{}", servers_->target().port())), std::string::npos) << message;
  EXPECT_NE(v.err.find("could not finish"), std::string::npos) << v.Describe();
  // A refused verify changes nothing: replication stays as the DBA left it.
  EXPECT_EQ(servers_->ReplicationThreads(), "No/No");

  VerifySqlExec(*target, "START SLAVE");
  EXPECT_EQ(servers_->WaitReplicationRunning(), "Yes/Yes");
  servers_->WaitCaughtUp();
}

// A source that stops answering without closing its sockets (SIGSTOP) ends
// the run within the bound timeout_s sets (checksum sessions wait longer, see db::DataReadTimeout),
// naming the source, instead of hanging. The verify is held on a table lock
// first so that the stall surely hits it mid-run. After SIGCONT a rerun
// finds the servers identical and the target replicating.
TEST_F(VerifyTest, StalledSourceEndsTheRunWithinItsTimeoutAndARerunSucceeds) {
  auto source = servers_->source().ConnectRoot();
  ASSERT_TRUE(source) << source.error().message();
  VerifySqlExec(*source, "LOCK TABLES kinds.types WRITE");
  const std::string config = WithServerTimeout(servers_->config(), 2);
  auto verify = servers_->StartVerify({}, config);
  auto watcher = servers_->source().ConnectRoot();
  ASSERT_TRUE(watcher) << watcher.error().message();
  bool waiting = false;
  for (int i = 0; i < 600 && !waiting; ++i) {
    waiting = VerifySqlValue(*watcher,
                             "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table "
                             "metadata lock%'") != "0";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(waiting) << "verify never reached kinds.types: " << verify->Stdout() << verify->Stderr();
  const pid_t pid = servers_->source().pid();
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  const auto stopped = std::chrono::steady_clock::now();
  const int exit_code = verify->Wait(std::chrono::seconds(90));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
  ASSERT_EQ(::kill(pid, SIGCONT), 0);
  VerifySqlExec(*source, "UNLOCK TABLES");
  const VerifyOutcome v = CollectOutcome(*verify, exit_code);
  fmt::print("[stalled source] verify ended {:.1f} s after SIGSTOP: {}\n", waited, v.last.value("message", ""));
  EXPECT_EQ(v.exit_code, 2) << v.Describe();
  const std::string message = v.last.value("message", "");
  EXPECT_NE(message.find(fmt::format("127.0.0.1:{}", servers_->source().port())), std::string::npos) << v.Describe();
  EXPECT_NE(message.find("no answer within"), std::string::npos) << v.Describe();
  // One data read timeout (4 x 2 s, plus 1 s for the biggest keyless table),
  // not one per worker: a worker that waited for another's failed query does
  // not send its own.
  EXPECT_LT(waited, 15.0) << v.Describe();

  EXPECT_EQ(servers_->WaitReplicationRunning(), "Yes/Yes");
  servers_->WaitCaughtUp();
  const VerifyOutcome rerun = servers_->Verify();
  EXPECT_EQ(rerun.exit_code, 0) << rerun.Describe();
}

// The race behind a stalled source ending verify after two timeouts instead
// of one: the worker that waited for a table's walker got its lock in the
// moment between the other worker's failed query and that worker stopping the
// run, and sent a query of its own. A walker whose query failed gives that
// error to every later caller, without a query.
TEST_F(VerifyTest, WalkerWhoseQueryFailedGivesItsErrorToLaterCallersWithoutAQuery) {
  db::Connection doomed = servers_->ConnectSource();
  db::Connection healthy = servers_->ConnectSource();
  auto tables = db::ReadTables(healthy, {"kinds"});
  ASSERT_TRUE(tables) << tables.error().message();
  auto types = std::find_if(tables->begin(), tables->end(), [](const auto& t) { return t.name == "types"; });
  ASSERT_NE(types, tables->end());
  verify::ChunkWalker walker(*types, 100, std::chrono::milliseconds(100));
  VerifySqlExec(healthy, fmt::format("KILL {}", doomed.thread_id()));
  const std::atomic<bool> running{false};
  auto first = walker.Next(doomed, running);
  ASSERT_FALSE(first) << "the walker's query on a killed session succeeded";

  constexpr const char* kQuestions =
      "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'QUESTIONS'";
  const std::string before = VerifySqlValue(healthy, kQuestions);
  auto second = walker.Next(healthy, running);
  const std::string after = VerifySqlValue(healthy, kQuestions);
  ASSERT_FALSE(second) << "a walker whose query failed went on walking";
  EXPECT_EQ(second.error().message(), first.error().message());
  // The second SELECT of the counter is the only statement in between.
  EXPECT_EQ(std::stoi(after), std::stoi(before) + 1) << "the walker sent a query after its first one failed";
}

// Its own servers: the target does not survive the test.
TEST(VerifyTargetDiesTest, KilledTargetEndsTheRunWithExitTwoAndLeavesTheSourceAlone) {
  // Enough rows that comparing them in small chunks takes a few seconds. One
  // clone chunk per table: parallel chunks of one table sometimes fail the
  // clone with a deadlock on the target (a clone bug, not what this tests).
  auto servers = VerifyServers::Create(kDiesSbtestRows, "--chunk-rows 1000000");
  ASSERT_NE(servers, nullptr);
  db::Connection source = servers->ConnectSource();
  const std::string checksums_sql =
      "CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2, kinds.types, kinds.regions, kinds.log EXTENDED";
  auto checksums = [&] {
    auto r = source.Query(checksums_sql);
    EXPECT_TRUE(r) << r.error().message();
    std::string out;
    for (const auto& row : r->rows) out += row[0].value_or("") + "=" + row[1].value_or("NULL") + " ";
    return out;
  };
  const std::string checksums_before = checksums();
  const std::string gtid_before = VerifySqlValue(source, "SELECT @@GLOBAL.gtid_binlog_pos");

  // One session, small chunks: many chunk queries, so the kill lands between them.
  auto verify = servers->StartVerify({"--threads", "1", "--chunk-time-ms", "10"});
  ASSERT_TRUE(verify->WaitForStdout("\"message\":\"comparing", seconds(30))) << verify->Stdout() << verify->Stderr();
  // Kill the target once verify's round is open there (its monitoring session,
  // one comparing session and the replication control session), and the
  // chunks have been compared for a moment.
  auto target = servers->target().ConnectRoot();
  ASSERT_TRUE(target) << target.error().message();
  std::string sessions = "0";
  for (auto deadline = std::chrono::steady_clock::now() + seconds(30);
       std::stoi(sessions) < 3 && std::chrono::steady_clock::now() < deadline;) {
    sessions = VerifySqlValue(
        *target, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'root' AND ID <> CONNECTION_ID()");
    if (sessions == "<error>") break;
  }
  ASSERT_EQ(sessions, "3") << "verify's sessions never showed up on the target\n" << verify->Stdout();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(verify->Stdout().find("\"event\":\"report\""), std::string::npos)
      << "verify finished before the target was killed: give it more rows";
  servers->target().Kill();
  const VerifyOutcome v = CollectOutcome(*verify, verify->Wait(seconds(60)));

  EXPECT_EQ(v.exit_code, 2) << v.Describe();
  ASSERT_TRUE(v.last.is_object()) << v.Describe();
  EXPECT_EQ(v.last["event"], "error") << v.Describe();
  const std::string message = v.last.value("message", "");
  std::printf("verify after the target was killed: exit %d: %s\n", v.exit_code, message.c_str());
  // The user is told which server went away.
  EXPECT_NE(message.find(fmt::format("127.0.0.1:{}", servers->target().port())), std::string::npos) << message;
  EXPECT_NE(message.find("target"), std::string::npos) << message;
  EXPECT_NE(v.err.find("could not finish"), std::string::npos) << v.Describe();

  // The source: same data, nothing written, no session of verify left, and it takes writes.
  EXPECT_EQ(checksums(), checksums_before);
  EXPECT_EQ(VerifySqlValue(source, "SELECT @@GLOBAL.gtid_binlog_pos"), gtid_before);
  std::string source_sessions;
  for (auto deadline = std::chrono::steady_clock::now() + seconds(10); std::chrono::steady_clock::now() < deadline;) {
    source_sessions = VerifySqlValue(source,
                                     "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'root' AND "
                                     "ID <> CONNECTION_ID()");
    if (source_sessions == "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(source_sessions, "0") << "verify's sessions are still open on the source";
  VerifySqlExec(source, "UPDATE sbtest.sbtest1 SET k = k + 1 WHERE id = 1");
}

}  // namespace
}  // namespace cutover::testing
