// One simulated application connection of a workload run: it picks
// operations, runs them over its own db::Connection, and records each one's
// outcome (in its append ledger and error counts) and latency (in its window
// of the start time).
//
// A client connects once and, after an error that loses the connection
// (ConnectionLost()), reconnects before its next operation; the time that
// takes is part of that operation, as it would be for an application.
// Thread-safety: Run() on a thread of its own; in_flight_since() from any
// thread; everything else only after Run() has returned.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/connection.h"
#include "workload/ledger.h"
#include "workload/options.h"
#include "workload/report.h"

namespace cutover::workload {

using Clock = std::chrono::steady_clock;

// What every client of one run shares. Owned by Workload; outlives the
// client threads.
struct RunState {
  explicit RunState(const WorkloadOptions& o) : options(o) {}

  const WorkloadOptions& options;
  int64_t seq_base = 0;  // appends of this run have seq > seq_base

  std::mutex mu;                       // guards the start gate; pairs with cv
  std::condition_variable cv;          // start gate, and wakes sleeping clients at Stop()
  int reported = 0;                    // clients that tried to connect
  std::optional<Error> connect_error;  // the first one that failed
  bool go = false;                     // every client connected: start
  std::atomic<bool> stop{false};
  Clock::time_point start;     // set before go
  Clock::time_point deadline;  // time_point::max() without a duration

  std::atomic<uint64_t> operations{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<int64_t> longest_ns{0};  // of finished operations
};

class Client {
 public:
  // `id` is the client column of its appends, 1 and up.
  Client(int id, RunState& run);

  // Connects, waits at the start gate, then runs operations until stopped or
  // past the deadline.
  void Run();

  // When the operation under way started, in Clock ticks since its epoch; 0
  // when idle.
  int64_t in_flight_since() const { return in_flight_since_.load(std::memory_order_relaxed); }

  const AppendLedger& ledger() const { return ledger_; }
  const std::map<std::string, uint64_t>& errors() const { return errors_; }
  uint64_t appends() const { return appends_; }
  uint64_t transfers() const { return transfers_; }
  uint64_t reads() const { return reads_; }
  // Moves the latency windows out.
  std::vector<WindowSamples> TakeWindows() { return std::move(windows_); }

 private:
  enum class Kind { kAppend, kTransfer, kRead };

  // Waits at the start gate after reporting `connected`; false when the run is
  // called off.
  bool AwaitStart(const Status& connected);
  // Sleeps until `t`, the deadline or Stop(), whichever comes first; false when
  // the client should end.
  bool SleepUntil(Clock::time_point t);
  void RunPaced();
  void RunFlatOut();
  // Runs one operation of a random kind and records it.
  void RunOne();
  Status Connect();
  Status Append();
  Status Transfer();
  Status Read();
  // Rolls back after a failed statement in a transaction; the error is `failed`.
  void AbortTransaction(const Error& failed);
  void Record(Clock::time_point start, Clock::time_point end, const Status& st);

  const int id_;
  RunState& run_;
  std::mt19937_64 rng_;
  std::optional<db::Connection> conn_;  // empty until connected, and after a lost connection
  std::string where_;                   // how the endpoint's errors name it
  std::atomic<int64_t> in_flight_since_{0};

  AppendLedger ledger_;
  std::map<std::string, uint64_t> errors_;
  uint64_t appends_ = 0, transfers_ = 0, reads_ = 0;
  std::vector<WindowSamples> windows_;
};

}  // namespace cutover::workload
