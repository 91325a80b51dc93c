// A seeded fault campaign: moves back and forth (`cutover switchover` and
// `cutover rollback`, the real binary) through the proxy while the proof
// workload writes through it, each move with one fault injected at a random
// step or moment:
//   orchestrator-kill   SIGKILL after a step (CUTOVER_TEST_KILL_AFTER_STEP)
//   orchestrator-stop   SIGSTOP after a step for 3 s (CUTOVER_TEST_STOP_AFTER_STEP):
//                       a hung process, or one cut off from the network
//   server-stop         SIGSTOP of the source or the target for 3 s at a random
//                       moment: a hung server, or a network cut between it and
//                       everyone (orchestrator, proxy, the other server)
//   server-kill         SIGKILL of the source or the target at a random moment,
//                       restarted 1 s later on the same port and datadir. Both
//                       servers restart with --read-only=ON, as production
//                       servers should be configured: a server back from a
//                       crash is never writable until someone says so
//   network-cut         the network between the two servers cut for 3 s at a
//                       random moment: each server's replication port is behind
//                       a NetworkLink of the test's own ([replication]
//                       source_port/target_port), which stops moving bytes
//                       without closing anything, while both servers keep running
//   control-cut         the network between the control plane (the orchestrator
//                       and the proxy, on one host as they usually are) and the
//                       source or the target cut for 3 s at a random moment:
//                       [source] and [target] are reached through NetworkLinks
//                       of their own, while replication and the servers go on
//   proxy-kill          SIGKILL of the proxy (a `cutover proxy` process here)
//                       when the orchestrator reports a random step; restarted
//                       1 s later on the same ports, as a supervisor would
//   proxy-stop          SIGSTOP of the proxy for 3 s when the orchestrator
//                       reports a random step
//   long-transaction    a transaction held open on the primary, bypassing the proxy
//   ddl                 a DDL burst from a SUPER session straight to the primary
//   none                a clean move
// After each run: any move left unfinished is finished the way an operator
// would (--resume, else --abort); a primary that crashed outside a move and
// came back read-only is made writable again, as its operator would (the
// recovery "writable"). Then the run checks that exactly one server
// is writable (and that no sample, every 50 ms through the run, ever saw two),
// that the proxy sends clients to it unpaused, that the other server
// replicates from it and that clients make progress. At the end the workload's
// ledger is checked: no acknowledged write lost or duplicated.
//
// CUTOVER_FAULT_SEED (default 1) and CUTOVER_FAULT_RUNS (default 10) choose the
// campaign; CUTOVER_FAULT_ONLY=<fault> injects only that fault;
// CUTOVER_FAULT_LOG names a TSV file to append one line per run to
// (bench/faults/run.sh runs long campaigns that way).
//
// Not injected here: faults during clone (CloneCommandTest's own seeded
// campaign), and a cut between the orchestrator and the proxy alone.
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "clone_fixture.h"
#include "network_link.h"
#include "replication/replica.h"
#include "switchover_fixture.h"

namespace cutover::testing::switchover_tests {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using clone_tests::EnvInt;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Reads both servers' read_only every 50 ms, A then B then A again, and counts
// the samples where all three reads said writable: two writable servers at
// once (A was writable before and after B was). A server that does not answer
// within a second is skipped for that sample.
class WritableSampler {
 public:
  WritableSampler(db::Endpoint a, db::Endpoint b) : servers_{std::move(a), std::move(b)} {
    for (db::Endpoint& e : servers_) e.timeout = std::chrono::seconds(1);
    thread_ = std::jthread([this] { Loop(); });
  }
  ~WritableSampler() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int samples() const { return samples_; }
  int both_writable() const { return both_; }

 private:
  // "0" writable, "1" read-only, "" unknown.
  std::string ReadOnly(int i) {
    if (!conns_[i]) {
      db::ConnectOptions options;
      options.connect_timeout = std::chrono::seconds(1);
      auto c = db::Connection::Connect(servers_[i], options);
      if (!c) return "";
      conns_[i].emplace(std::move(*c));
    }
    auto v = conns_[i]->QueryValue("SELECT @@GLOBAL.read_only");
    if (!v) {
      conns_[i].reset();
      return "";
    }
    return v->value_or("");
  }
  void Loop() {
    while (!stop_) {
      const std::string a1 = ReadOnly(0), b = ReadOnly(1), a2 = ReadOnly(0);
      ++samples_;
      if (a1 == "0" && b == "0" && a2 == "0") ++both_;
      std::this_thread::sleep_for(50ms);
    }
  }

  db::Endpoint servers_[2];
  std::optional<db::Connection> conns_[2];
  std::atomic<bool> stop_{false};
  std::atomic<int> samples_{0};
  std::atomic<int> both_{0};
  std::jthread thread_;
};

class FaultCampaignTest : public SwitchoverFixture {
 protected:
  struct Run {
    int number = 0;
    std::string command;  // switchover or rollback
    std::string fault;
    std::string detail;   // the step, or the server and the moment
    int exit_code = -1;
    std::string recovery = "none";  // what finished the records afterwards
    std::string primary;            // afterwards
    double seconds = 0;
    double unpaused_ms = 0;  // from the command's exit until clients ran again (no one helping)
    std::string message;     // the command's error, if it printed one
    bool ok = false;
  };

  std::string OtherRole(const std::string& role) { return role == "source" ? "target" : "source"; }

  // The last "cutover switchover: ..." or "cutover rollback: ..." error line
  // of an output, cut to 400 characters; "" when none.
  static std::string LastError(const std::string& output) {
    size_t at = std::string::npos;
    for (const char* prefix : {"cutover switchover: ", "cutover rollback: "}) {
      for (size_t p = output.find(prefix); p != std::string::npos; p = output.find(prefix, p + 1)) {
        if ((p == 0 || output[p - 1] == '\n') && (at == std::string::npos || p > at)) at = p;
      }
    }
    if (at == std::string::npos) return "";
    std::string line = output.substr(at, output.find('\n', at) - at);
    for (char& c : line) {
      if (c == '\t') c = ' ';
    }
    return line.substr(0, 400);
  }

  // Waits (up to 20 s) until `replica` replicates from `primary` (reached at
  // `primary_port`) with both threads running.
  bool ReplicatesFrom(const std::string& replica, uint16_t primary_port, std::string& seen) {
    const auto deadline = Clock::now() + 20s;
    for (;;) {
      auto conn = Server(replica).ConnectRoot();
      if (conn) {
        auto status = replication::ReadReplicaStatus(*conn);
        if (status) {
          seen = status->Describe();
          if (status->running() && status->source_port == primary_port) return true;
        } else {
          seen = status.error().message();
        }
      } else {
        seen = conn.error().message();
      }
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(200ms);
    }
  }

  // The cutover binary with `command` and an optional environment setting.
  std::vector<std::string> Argv(const std::string& config, const std::string& command, const std::string& env) {
    std::vector<std::string> argv{"/usr/bin/env"};
    if (!env.empty()) argv.push_back(env);
    argv.insert(argv.end(), {CUTOVER_BINARY, command, "--config", config});
    return argv;
  }

  // Finishes a move a fault left unfinished, as an operator would.
  std::string FinishRecords(const std::string& config) {
    std::string recovery = "none";
    for (int attempt = 0; attempt < 3 && LoadState().in_progress; ++attempt) {
      CommandResult resume = RunShell(fmt::format("{} switchover --config {} --resume", CUTOVER_BINARY, config));
      if (resume.exit_code == 0) {
        recovery = "resume";
        continue;
      }
      CommandResult abort = RunShell(fmt::format("{} switchover --config {} --abort", CUTOVER_BINARY, config));
      recovery = abort.exit_code == 0 ? "abort" : "failed: " + resume.output + abort.output;
      if (abort.exit_code != 0) std::this_thread::sleep_for(1s);
    }
    return recovery;
  }
};

TEST_F(FaultCampaignTest, SeededFaultsDuringMovesLoseNothingAndLeaveOnePrimary) {
  const int seed = EnvInt("CUTOVER_FAULT_SEED", 1);
  const int runs = EnvInt("CUTOVER_FAULT_RUNS", 10);
  const char* log_path = std::getenv("CUTOVER_FAULT_LOG");
  std::mt19937 rng(static_cast<uint32_t>(seed));
  auto pick = [&](int n) { return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng)); };
  // The servers reach each other through links that a network-cut fault cuts.
  NetworkLink source_link(source().host(), source().port());
  NetworkLink target_link(target().host(), target().port());
  ASSERT_FALSE(HasFailure());
  auto link = [&](const std::string& role) -> NetworkLink& { return role == "source" ? source_link : target_link; };
  // The orchestrator and the proxy reach the servers through links of their own.
  NetworkLink source_control(source().host(), source().port());
  NetworkLink target_control(target().host(), target().port());
  ASSERT_FALSE(HasFailure());
  auto control = [&](const std::string& role) -> NetworkLink& {
    return role == "source" ? source_control : target_control;
  };
  // How the proxy names a server: by the address in the config.
  auto control_address = [&](const std::string& role) { return fmt::format("127.0.0.1:{}", control(role).port()); };
  const std::string config = WriteConfig(/*catchup_timeout_ms=*/10000, /*max_pause_ms=*/500);
  {
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* role : {"source", "target"}) {
      const std::string from = fmt::format("[{}]\nhost = \"127.0.0.1\"\nport = {}\n", role, Server(role).port());
      const size_t at = text.find(from);
      ASSERT_NE(at, std::string::npos) << text;
      text.replace(at, from.size(),
                   fmt::format("[{}]\nhost = \"127.0.0.1\"\nport = {}\n", role, control(role).port()));
    }
    const std::string section = "[replication]\n";
    const size_t at = text.find(section);
    ASSERT_NE(at, std::string::npos) << text;
    text.insert(at + section.size(),
                fmt::format("source_host = \"127.0.0.1\"\nsource_port = {}\ntarget_host = \"127.0.0.1\"\ntarget_port = {}\n",
                            source_link.port(), target_link.port()));
    std::ofstream(config) << text;
    // The clone made the target replicate from the source's own port: move it onto the link.
    db::Connection t = Root("target");
    Status stopped = replication::StopAndForgetReplica(t);
    ASSERT_TRUE(stopped) << stopped.error().message();
    auto applied = replication::ReadAppliedGtid(t);
    ASSERT_TRUE(applied) << applied.error().message();
    Status started = replication::StartReplica(
        t, {"127.0.0.1", source_link.port(), kSwReplUser, kSwReplPassword}, *applied, /*parallel_threads=*/2);
    ASSERT_TRUE(started) << started.error().message();
    std::string seen;
    ASSERT_TRUE(ReplicatesFrom("target", source_link.port(), seen)) << seen;
  }
  {
    db::Connection root = Root("source");
    for (const char* sql : {"CREATE DATABASE IF NOT EXISTS ddl",
                            "CREATE TABLE IF NOT EXISTS ddl.longtx (id INT PRIMARY KEY, v INT)",
                            "INSERT IGNORE INTO ddl.longtx VALUES (1, 0)"}) {
      Status st = root.Execute(sql);
      ASSERT_TRUE(st) << sql << ": " << st.error().message();
    }
  }
  MarkClusterDirty();  // servers are stopped and moved back and forth at random
  for (const char* role : {"source", "target"}) Server(role).AddStartArguments({"--read-only=ON"});
  // The proxy runs as a process here, so that it can be killed and stopped.
  StopInProcessProxy();
  std::unique_ptr<clone_tests::BackgroundCutover> proxy;
  const auto start_proxy = [&] {
    proxy = std::make_unique<clone_tests::BackgroundCutover>(
        std::vector<std::string>{CUTOVER_BINARY, "proxy", "--config", config});
    return proxy->WaitForOutput("admin API on", 10s);
  };
  ASSERT_TRUE(start_proxy()) << proxy->output();
  ExpectWorkloadProgress("on the proxy process");

  const char* const kFaults[] = {"orchestrator-kill", "orchestrator-stop", "server-stop", "server-kill",
                                 "network-cut",       "control-cut",       "proxy-kill",  "proxy-stop",
                                 "long-transaction",  "ddl",               "none"};
  const char* only = std::getenv("CUTOVER_FAULT_ONLY");
  const char* const kSteps[] = {"pause", "fence", "catch-up", "promote", "repoint", "resume", "reverse-replication"};
  WritableSampler sampler(source().RootEndpoint(), target().RootEndpoint());
  int failed_runs = 0;
  std::string primary = "source";
  for (int n = 1; n <= runs; ++n) {
    Run run;
    run.number = n;
    const auto start = Clock::now();
    const int both_before = sampler.both_writable();
    const std::string from = primary, to = OtherRole(primary);
    run.command = to == "target" ? "switchover" : "rollback";
    run.fault = kFaults[pick(std::size(kFaults))];
    if (only != nullptr && *only != '\0') run.fault = only;
    std::string env;
    std::optional<db::Connection> long_transaction;
    std::unique_ptr<DdlBurst> burst;
    std::string fault_problems;  // before staller, which may write to it until it is joined
    std::jthread staller;
    std::string proxy_after;  // the step after which the proxy is killed or stopped
    if (run.fault == "orchestrator-kill" || run.fault == "orchestrator-stop") {
      run.detail = kSteps[pick(std::size(kSteps))];
      env = fmt::format("CUTOVER_TEST_{}_AFTER_STEP={}", run.fault == "orchestrator-kill" ? "KILL" : "STOP", run.detail);
    } else if (run.fault == "server-stop") {
      const std::string victim = pick(2) == 0 ? from : to;
      const int delay_ms = pick(400);
      run.detail = fmt::format("{} after {} ms", victim, delay_ms);
      const pid_t pid = Server(victim).pid();
      staller = std::jthread([pid, delay_ms] {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        ::kill(pid, SIGSTOP);
        std::this_thread::sleep_for(3s);
        ::kill(pid, SIGCONT);
      });
    } else if (run.fault == "server-kill") {
      const std::string victim = pick(2) == 0 ? from : to;
      const int delay_ms = pick(400);
      run.detail = fmt::format("{} after {} ms", victim, delay_ms);
      local::LocalServer* server = &Server(victim);
      staller = std::jthread([server, delay_ms, &fault_problems] {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        server->Kill();
        std::this_thread::sleep_for(1s);  // a supervisor's restart delay
        if (Status st = server->Restart(); !st) fault_problems += " the killed server did not restart: " + st.error().message() + ";";
      });
    } else if (run.fault == "network-cut" || run.fault == "control-cut") {
      const std::string into = pick(2) == 0 ? from : to;
      const int delay_ms = pick(400);
      run.detail = fmt::format("to {} after {} ms", into, delay_ms);
      NetworkLink* cut = run.fault == "network-cut" ? &link(into) : &control(into);
      staller = std::jthread([l = cut, delay_ms] {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        l->Cut();
        std::this_thread::sleep_for(3s);
        l->Restore();
      });
    } else if (run.fault == "proxy-kill" || run.fault == "proxy-stop") {
      proxy_after = kSteps[pick(std::size(kSteps) - 2)];  // pause .. repoint: while clients are paused
      run.detail = "after " + proxy_after;
    } else if (run.fault == "long-transaction") {
      long_transaction.emplace(Root(from));
      for (const char* sql : {"BEGIN", "UPDATE ddl.longtx SET v = v + 1 WHERE id = 1"}) {
        Status st = long_transaction->Execute(sql);
        ASSERT_TRUE(st) << sql << ": " << st.error().message();
      }
      run.detail = "open on " + from;
    } else if (run.fault == "ddl") {
      burst = std::make_unique<DdlBurst>(Server(from).RootEndpoint(), fmt::format("r{}_", n));
      run.detail = "burst on " + from;
    }

    clone_tests::BackgroundCutover child(Argv(config, run.command, env));
    if (run.fault == "orchestrator-stop") {
      if (child.WaitForOutput("stopped after step", 60s)) {
        std::this_thread::sleep_for(3s);  // the lease (max_pause_ms + 1 s) runs out meanwhile
        child.Signal(SIGCONT);
      }
    }
    if (!proxy_after.empty()) {
      if (!child.WaitForOutput("  " + proxy_after + " ", 60s)) {
        run.detail += " (not reached)";
      } else if (run.fault == "proxy-kill") {
        proxy->Signal(SIGKILL);
        (void)proxy->Wait(10s);
        std::this_thread::sleep_for(1s);  // a supervisor's restart delay
        if (!start_proxy()) fault_problems += " the proxy did not restart: " + proxy->output() + ";";
      } else {
        proxy->Signal(SIGSTOP);
        std::this_thread::sleep_for(3s);
        proxy->Signal(SIGCONT);
      }
    }
    if (burst) {
      // Stopped while the fence still holds (the re-point happens inside it),
      // so that no statement reaches the old primary after the fence lifts:
      // a SUPER session would write there, and cutover can only detect that
      // (errant GTIDs), not prevent it. A statement already waiting on the
      // fence is killed by the move before the fence lifts.
      child.WaitForOutput("  repoint ", 60s);
      burst->RequestStop();
    }
    run.exit_code = child.Wait(120s);
    run.message = LastError(child.output());
    if (burst) burst->Stop();
    staller = {};  // joins: the stopped server runs again, the cut link carries bytes again
    if (long_transaction) (void)long_transaction->Execute("ROLLBACK");
    long_transaction.reset();

    // Without anyone's help clients run again: a dead or stalled orchestrator's
    // lease runs out after max_pause_ms + 1 s and the proxy ends the move.
    const auto exited = Clock::now();
    while (ProxyStatus().value("paused", false) && Clock::now() - exited < 10s) std::this_thread::sleep_for(10ms);
    run.unpaused_ms = std::chrono::duration<double, std::milli>(Clock::now() - exited).count();
    std::string problems = fault_problems;
    if (run.unpaused_ms > 3000) problems += fmt::format(" clients were still paused {:.0f} ms after the exit;", run.unpaused_ms);
    run.recovery = FinishRecords(config);
    if (run.fault == "server-kill" && WritableServers().empty() && !LoadState().in_progress) {
      // The primary crashed and came back read-only: its operator makes it
      // writable again (cutover does not promote a server on its own).
      const std::string recorded = LoadState().primary;
      Status st = Root(recorded).Execute("SET GLOBAL read_only = OFF");
      run.recovery = st ? "writable" : "failed: " + st.error().message();
    }
    const std::vector<std::string> writable = WritableServers();
    if (writable.size() != 1) problems += fmt::format(" writable servers: {};", fmt::join(writable, ","));
    if (sampler.both_writable() != both_before) {
      problems += fmt::format(" {} sample(s) saw two writable servers;", sampler.both_writable() - both_before);
    }
    if (writable.size() == 1) {
      primary = writable.front();
      const nlohmann::json status = ProxyStatus();
      if (status.value("paused", true)) problems += " the proxy is still paused;";
      if (status.value("primary", "") != control_address(primary)) {
        problems += fmt::format(" the proxy sends clients to {} but {} is writable;", status.value("primary", ""), primary);
      }
      std::string seen;
      if (!ReplicatesFrom(OtherRole(primary), link(primary).port(), seen)) {
        problems += fmt::format(" the {} does not replicate from the {}: {};", OtherRole(primary), primary, seen);
      }
    }
    run.primary = primary;
    run.seconds = SecondsSince(start);
    run.ok = problems.empty();
    if (!run.ok) ++failed_runs;
    ExpectWorkloadProgress(fmt::format("run {}", n));
    EXPECT_TRUE(run.ok) << fmt::format("seed {} run {}: {} with {} ({}), exit {}, recovery {}:{}\n{}", seed, n,
                                       run.command, run.fault, run.detail, run.exit_code, run.recovery, problems,
                                       child.output());
    fmt::print("[fault campaign] seed {} run {:>3}: {:<10} {:<17} {:<28} exit {:>2}  unpaused {:>5.0f} ms  recovery "
               "{:<6}  primary {:<6} {:5.1f} s  {}\n",
               seed, n, run.command, run.fault, run.detail, run.exit_code, run.unpaused_ms, run.recovery.substr(0, 6),
               run.primary, run.seconds, run.ok ? "ok" : "FAILED");
    if (log_path != nullptr) {
      std::ofstream(log_path, std::ios::app) << fmt::format(
          "{}\t{}\t{}\t{}\t{}\t{}\t{:.0f}\t{}\t{}\t{:.1f}\t{}\t{}\n", seed, n, run.command, run.fault, run.detail,
          run.exit_code, run.unpaused_ms, run.recovery.substr(0, 6), run.primary, run.seconds, run.ok ? "ok" : "FAILED",
          run.message);
    }
    ASSERT_FALSE(HasFatalFailure());
  }
  sampler.Stop();
  fmt::print("[fault campaign] seed {}: {} run(s), {} failed; {} read_only samples, {} saw two writable servers\n",
             seed, runs, failed_runs, sampler.samples(), sampler.both_writable());
  EXPECT_EQ(sampler.both_writable(), 0);
  const workload::WorkloadReport report = FinishAndCheck(primary, /*expect_no_errors=*/false, control_address(primary));
  if (log_path != nullptr) {
    std::ofstream(log_path, std::ios::app) << fmt::format(
        "# seed {}: {} runs, {} failed, {} samples, {} with two writable; workload: {} appends acknowledged, {} "
        "missing, {} duplicated\n",
        seed, runs, failed_runs, sampler.samples(), sampler.both_writable(), report.appends_acknowledged,
        report.appends_missing, report.appends_duplicated);
  }
}

}  // namespace
}  // namespace cutover::testing::switchover_tests
