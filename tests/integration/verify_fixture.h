// Servers and helpers for the `cutover verify` tests: a source and a target
// that `cutover clone` made its replica, holding sysbench tables and a few
// tables of tricky values; the cutover binary (and sysbench) run as child
// processes whose stdout and stderr are kept apart; the JSON report read back
// as sets of differences.
// Thread-safety: none; everything here is used by the test's thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/connection.h"
#include "local/local_server.h"

namespace cutover::testing {

// A program running in the background, stdout and stderr each to a file of
// its own. The destructor SIGKILLs it if it still runs.
class VerifyChild {
 public:
  // REQUIRES: argv[0] is the program's path. `name` names the output files in `dir`.
  VerifyChild(const std::vector<std::string>& argv, const std::string& dir, const std::string& name);
  VerifyChild(const VerifyChild&) = delete;
  VerifyChild& operator=(const VerifyChild&) = delete;
  ~VerifyChild();

  bool started() const { return pid_ > 0; }
  // Waits until stdout contains `text`; false on timeout or once the child has exited without it.
  bool WaitForStdout(const std::string& text, std::chrono::milliseconds timeout);
  // The exit status; -1 when it died of a signal or did not exit within
  // `timeout` (it is SIGKILLed then).
  int Wait(std::chrono::milliseconds timeout);
  void Signal(int signal);
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  bool Reap(bool block);

  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  std::string out_path_;
  std::string err_path_;
};

// One finished `cutover verify --json` run.
struct VerifyOutcome {
  int exit_code = -1;
  std::string out;      // stdout
  std::string err;      // stderr
  nlohmann::json last;  // the last line of stdout, parsed (null when it is not JSON)

  bool has_report() const { return last.is_object() && last.value("event", "") == "report"; }
  // "table key kind" for every reported difference, e.g. "kinds.regions ('x', 3) changed".
  std::set<std::string> Differences() const;
  // table -> its "result" ("identical", "DIFFERENT", ...).
  std::map<std::string, std::string> Results() const;
  // The report's entry for `table` (null when absent).
  nlohmann::json Table(const std::string& table) const;
  // Everything, for failure messages.
  std::string Describe() const;
};
// Reads the outputs of a child that has exited with `exit_code`.
VerifyOutcome CollectOutcome(const VerifyChild& child, int exit_code);

// The first column of the first row ("<NULL>" for NULL); fails the test and
// returns "<error>" when the query fails.
std::string VerifySqlValue(db::Connection& conn, const std::string& sql);
// Runs a statement or fails the test.
void VerifySqlExec(db::Connection& conn, const std::string& sql);

// Source (server_id 1) and target (server_id 2), the target made a replica of
// the source by `cutover clone`. The schemas:
//   sbtest.sbtest1, sbtest.sbtest2   sysbench prepare, `sbtest_rows` rows each
//   kinds.types    id INT PK; name VARCHAR utf8mb4_general_ci; note VARCHAR NULL; data BLOB
//   kinds.regions  PRIMARY KEY (region VARCHAR, n INT)
//   kinds.log      no key at all, every row twice
class VerifyServers {
 public:
  // Fails the test (and returns nullptr) when a server does not start or the clone fails.
  // `clone_args` are added to the `cutover clone` command line.
  static std::unique_ptr<VerifyServers> Create(uint64_t sbtest_rows, const std::string& clone_args = "");
  ~VerifyServers();

  local::LocalServer& source() { return *source_; }
  local::LocalServer& target() { return *target_; }
  const std::string& dir() const { return dir_; }
  const std::string& config() const { return config_; }

  db::Connection ConnectSource();
  // A root session on the target whose writes stay out of the binary log
  // (SET SESSION sql_log_bin = 0): how the tests corrupt the replica.
  db::Connection ConnectTargetUnlogged();

  // `cutover verify --config ... --json <args>`, waiting up to two minutes.
  VerifyOutcome Verify(const std::vector<std::string>& args = {});
  // The same in the background, with the config file at `config` when given.
  std::unique_ptr<VerifyChild> StartVerify(const std::vector<std::string>& args, const std::string& config = "");
  // sysbench oltp_write_only against sbtest on the source, in the background.
  std::unique_ptr<VerifyChild> StartSysbench(int seconds, int threads);

  // Slave_IO_Running and Slave_SQL_Running of the target, "IO/SQL", e.g. "Yes/Yes".
  std::string ReplicationThreads();
  // Waits (up to 10 s) for both replication threads to run; the last state seen.
  std::string WaitReplicationRunning();
  // Waits until the target has applied all the source has written.
  void WaitCaughtUp(std::chrono::seconds timeout = std::chrono::seconds(60));

 private:
  VerifyServers() = default;
  void CreateSchemas(uint64_t sbtest_rows);
  void Clone(const std::string& clone_args);
  std::vector<std::string> VerifyArgv(const std::vector<std::string>& args, const std::string& config = "") const;

  std::unique_ptr<local::LocalServer> source_;
  std::unique_ptr<local::LocalServer> target_;
  std::string dir_;     // config file and child outputs
  std::string config_;  // path of cutover.toml
  int runs_ = 0;        // names each child's output files
  uint64_t sbtest_rows_ = 0;
};

// Corruption written on the target, undone when the object goes: Save() keeps
// a copy of the rows matching a condition in a temporary table of the
// session, and Restore() (or the destructor) puts exactly those rows back.
// The writes are kept out of the binary log.
class TargetCorruption {
 public:
  explicit TargetCorruption(VerifyServers& servers) : conn_(servers.ConnectTargetUnlogged()) {}
  ~TargetCorruption() { Restore(); }

  // REQUIRES: called before the rows matching `where` are touched.
  void Save(const std::string& table, const std::string& where);
  void Exec(const std::string& sql) { VerifySqlExec(conn_, sql); }
  std::string Value(const std::string& sql) { return VerifySqlValue(conn_, sql); }
  void Restore();

 private:
  struct Saved {
    std::string table;
    std::string where;
    std::string copy;  // the temporary table
  };
  db::Connection conn_;
  std::vector<Saved> saved_;
};

}  // namespace cutover::testing
