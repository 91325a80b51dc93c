// Everything a switchover test needs, wired in-process as `cutover demo` does:
// two real mariadbd servers (source and target), the cutover proxy with its
// admin API in front of the source, the target cloned from the live source
// (clone::RunClone with users and the replication account), and the proof
// workload running THROUGH the proxy during each test.
//
// The servers and the proxy are shared by the suite: a clean switchover,
// rollback or abort leaves them as they were (the source the primary, the
// target a read-only replica of it). SetUp checks that, and builds a fresh
// cluster when a test left it otherwise (a killed server, `finish`).
// Thread-safety: a SwitchoverFixture is used by its test's thread, except where a
// test hands a server to a thread of its own (and then does not touch it).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "db/connection.h"
#include "local/local_server.h"
#include "proxy/admin_api.h"
#include "proxy/proxy_server.h"
#include "proxy_fixture.h"
#include "switchover/switchover.h"
#include "workload/workload.h"

namespace cutover::testing::switchover_tests {

inline constexpr char kSwReplUser[] = "repl";
inline constexpr char kSwReplPassword[] = "repl-secret";

// Records every step a switchover reports, and lets a test act when one ends
// (called on the orchestrator's thread).
class StepLog : public switchover::SwitchoverObserver {
 public:
  explicit StepLog(std::function<void(std::string_view step)> on_step = {}) : on_step_(std::move(on_step)) {}
  void Step(std::string_view name, std::string_view detail) override;
  std::string Text() const;  // one "name: detail" line per step

 private:
  std::function<void(std::string_view)> on_step_;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;  // guarded by mu_
};

// The two servers and the proxy, shared across tests.
struct Cluster {
  std::string dir;  // config, state files
  std::unique_ptr<local::LocalServer> source;
  std::unique_ptr<local::LocalServer> target;
  std::unique_ptr<proxy::ProxyServer> proxy;
  std::unique_ptr<proxy::AdminApi> admin;
  uint16_t proxy_port = 0;  // where clients connect, and the admin API: kept when
  uint16_t admin_port = 0;  // a test replaces the in-process proxy by a process
  std::string state_file;  // switchover.state_file

  ~Cluster();
};

// Blocks the target's replication applier without stopping it: a root session
// on the target holds LOCK TABLES ... WRITE on the workload's appends table, so
// the applier waits on the lock (SHOW SLAVE STATUS still says Yes/Yes) and
// cannot reach the old primary's final GTID until Release(). (STOP SLAVE
// SQL_THREAD would not do: the pre-checks refuse a replica that is not
// running, and the catch-up gives up at once on a stopped SQL thread.)
class TargetApplyBlock {
 public:
  // Fails the test (and blocks nothing) when the lock cannot be taken or the
  // applier is not seen waiting within 10 s.
  explicit TargetApplyBlock(local::LocalServer& target);
  ~TargetApplyBlock() { Release(); }
  void Release();

 private:
  std::optional<db::Connection> conn_;
};

// A DBA's admin session straight to one server (root: SUPER, so read_only
// does not stop it), running DDL about 30 times a second until Stop(): CREATE
// TABLE ddl.<prefix><i>, ADD COLUMN, DROP TABLE of the one before. Records
// what the server acknowledged and what failed. REQUIRES: schema ddl exists.
class DdlBurst {
 public:
  DdlBurst(db::Endpoint server, std::string prefix);
  ~DdlBurst() { Stop(); }
  // Sends no further statement once the one in flight returns.
  void RequestStop() { stop_ = true; }
  // The same, and waits for that.
  void Stop();
  int acknowledged() const { return acknowledged_; }
  std::vector<std::string> failures() const;
  std::string setup_error() const;

 private:
  void Loop();

  db::Endpoint server_;
  std::string prefix_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acknowledged_{0};
  mutable std::mutex mu_;
  std::vector<std::string> failures_;  // guarded by mu_
  std::string setup_error_;            // guarded by mu_
  std::jthread thread_;
};

class SwitchoverFixture : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { cluster_.reset(); }
  // Builds the cluster if needed, then starts the test's workload.
  void SetUp() override;
  // Stops the workload if the test did not.
  void TearDown() override;

  local::LocalServer& source() { return *cluster_->source; }
  local::LocalServer& target() { return *cluster_->target; }
  local::LocalServer& Server(const std::string& role) { return role == "source" ? source() : target(); }
  const std::string& state_file() const { return cluster_->state_file; }
  uint16_t admin_port() const { return cluster_->admin_port; }
  db::Endpoint ProxyEndpoint() const;

  // What `cutover switchover` would build from the cluster's config.
  switchover::SwitchoverOptions Options() const;
  // A config file for the cutover binary naming this cluster, for a test that
  // blocks the target's applier on purpose: no catch-up gate, and a pause
  // budget that lets the catch-up wait catchup_timeout_ms. Returns its path.
  // `max_pause_ms` > 0 replaces that budget (and keeps the catch-up gate off).
  std::string WriteConfig(int64_t catchup_timeout_ms = 10000, int64_t max_pause_ms = 0);
  // A root connection, or the test fails.
  db::Connection Root(const std::string& role);

  std::string ReadOnly(const std::string& role);  // "0"/"1" of a running server
  // Roles of running servers with @@read_only = 0.
  std::vector<std::string> WritableServers();
  nlohmann::json ProxyStatus();
  std::string Address(const std::string& role);  // "127.0.0.1:port", as the proxy names its primary
  switchover::MoveState LoadState();

  // Asserts that the workload makes progress within 5 s (clients resumed).
  void ExpectWorkloadProgress(const std::string& when);
  // The end of every test: `primary` is the one writable server, the proxy is
  // not paused and sends clients to it, and the workload, stopped and checked
  // against it, lost no acknowledged write and kept the bank total. With
  // `expect_no_errors` the clients must also have seen no error at all.
  // Returns the report (for numbers the test prints or asserts on).
  // `proxy_address`: how the proxy names the primary, when the config reaches
  // it at another address than Address(primary).
  workload::WorkloadReport FinishAndCheck(const std::string& primary, bool expect_no_errors,
                                          const std::string& proxy_address = "");

  // Stops and drops the in-process proxy, so that a `cutover proxy` process
  // started with the config of WriteConfig (same ports, same state file) can
  // take its place. Marks the cluster dirty.
  void StopInProcessProxy();

  // Drops the shared cluster so the next test builds a fresh one.
  static void MarkClusterDirty() { dirty_ = true; }

  std::unique_ptr<workload::Workload> workload_;

 private:
  // Is the cluster as a clean start leaves it? The reason when not.
  std::string Unhealthy();
  void BuildCluster();
  workload::WorkloadOptions LoadOptions() const;

  static inline std::unique_ptr<Cluster> cluster_;
  static inline bool dirty_ = false;
};

}  // namespace cutover::testing::switchover_tests
