// Two real mariadbd servers (source and target) for `cutover clone` tests, the
// cutover binary run in the foreground or in the background, a write load on
// the source, and the comparisons the tests assert on.
// Thread-safety: a CloneTest is used by its test's thread; SourceWriter runs
// its own thread; BackgroundCutover reads the child's output on its own thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "db/connection.h"
#include "local/local_server.h"
#include "proxy_fixture.h"

namespace cutover::testing::clone_tests {

inline constexpr char kReplUser[] = "repl";
inline constexpr char kReplPassword[] = "repl-secret";

// The first column of the first row, "<NULL>" for SQL NULL; a failed query
// fails the test and returns "<error>".
std::string Value(db::Connection& conn, const std::string& sql);
// Runs a statement or fails the test.
void Exec(db::Connection& conn, const std::string& sql);
// Every row of a query, each as its columns joined by '|' (NULL as "<NULL>").
std::vector<std::string> Rows(db::Connection& conn, const std::string& sql);
// The last number of a GTID position ("0-1-42" -> 42); 0 when empty.
uint64_t GtidSeq(const std::string& gtid);
// The environment variable `name` as an integer; `fallback` when unset or empty.
int EnvInt(const char* name, int fallback);

// The cutover binary in the background, with stdout and stderr read as they
// come, so that a test can act at a given point of its run.
class BackgroundCutover {
 public:
  // REQUIRES: args[0] is the program path.
  explicit BackgroundCutover(const std::vector<std::string>& args);
  BackgroundCutover(const BackgroundCutover&) = delete;
  BackgroundCutover& operator=(const BackgroundCutover&) = delete;
  ~BackgroundCutover();  // SIGKILLs the child if it still runs

  // Waits until the output contains `text`; false on timeout or when the
  // child exits without printing it.
  bool WaitForOutput(const std::string& text, std::chrono::milliseconds timeout);
  void Signal(int signal);
  // The exit status, or -1 when the child did not exit within `timeout`
  // (it is killed then) or died of a signal.
  int Wait(std::chrono::milliseconds timeout);
  // Is the child still running? Reaps it (keeping its exit status) when not.
  bool Running();
  std::string output() const;

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool exited_ = false;
  mutable std::mutex mu_;
  std::string output_;  // guarded by mu_
  std::atomic<bool> eof_{false};
  std::jthread reader_;
};

// Small autocommit transactions on the source, as fast as one session can
// commit, until Stop(): INSERT/UPDATE/DELETE on shop.sbtest1/2, inserts into
// shop.orders (whose trigger writes shop.audit), and writes of tricky values
// into types.* tables.
class SourceWriter {
 public:
  explicit SourceWriter(db::Endpoint source);
  ~SourceWriter() { Stop(); }
  void Start();
  void Stop();
  uint64_t transactions() const { return transactions_; }
  // The first failed statement and its error; empty when there was none.
  std::string error() const;

 private:
  void Loop();
  bool Run(db::Connection& conn, const std::string& sql);

  db::Endpoint source_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> transactions_{0};
  mutable std::mutex mu_;
  std::string error_;  // guarded by mu_
  std::jthread thread_;
};

class CloneTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts source_ and target_ side by side; fails the test if either cannot start.
  void StartServers(local::LocalServerOptions source, local::LocalServerOptions target);
  void StartServers();  // server_id 1 and 2, binlog on

  db::Connection Connect(const local::LocalServer& server);
  // A config file with [source], [target] and [replication]; returns its path.
  std::string WriteConfig(const std::string& source_password = "");
  // The cutover binary with `args`, e.g. "clone --config x". Output is stdout and stderr.
  CommandResult Cutover(const std::string& args);
  // The argument vector for BackgroundCutover: the binary, then `args`.
  std::vector<std::string> CutoverArgv(const std::vector<std::string>& args) const;

  // Creates the replication account on the source, as a DBA would before a clone.
  void CreateReplicationUser();
  // shop: two sysbench-like tables of `sbtest_rows` rows each, orders with an
  // AFTER INSERT trigger writing audit, an id=0 row in an AUTO_INCREMENT
  // table, two views (one on the other), a function, a procedure and an event.
  void CreateShopSchema(uint64_t sbtest_rows);
  // types: one table per tricky kind of value (see clone_fixture.cpp).
  void CreateTypesSchema();
  // num.floats: FLOAT values with more than 6 significant digits.
  void CreateFloatTable();
  // One table big.items of `rows` rows of about 200 bytes each.
  void CreateBigTable(uint64_t rows);

  // User schemas on a server (not mysql, sys, *_schema).
  std::vector<std::string> Schemas(db::Connection& conn);
  // The table's columns as a SELECT list that shows every bit (FLOAT via CAST AS DOUBLE).
  std::vector<std::string> ExactColumns(db::Connection& conn, const std::string& schema, const std::string& table,
                                        bool& has_virtual);
  // CHECKSUM TABLE, or for a table with a VIRTUAL column a checksum by query (see the .cpp).
  std::string TableChecksum(db::Connection& conn, const std::string& schema, const std::string& table);
  // `schema`.`table` -> TableChecksum(), for every base table of `schemas`.
  std::map<std::string, std::string> Checksums(db::Connection& conn, const std::vector<std::string>& schemas);
  // schema.table -> COUNT(*), for every base table of `schemas`.
  std::map<std::string, std::string> Counts(db::Connection& conn, const std::vector<std::string>& schemas);
  // Waits until the target has applied everything the source has written.
  void WaitTargetCaughtUp(std::chrono::seconds timeout = std::chrono::seconds(60));
  // Asserts that source and target hold the same data in `schemas`.
  void ExpectSameData(const std::vector<std::string>& schemas);
  bool ReplUserExists(db::Connection& source);

  std::unique_ptr<local::LocalServer> source_;
  std::unique_ptr<local::LocalServer> target_;
  std::string dir_;  // a temporary directory for config files
};

}  // namespace cutover::testing::clone_tests
