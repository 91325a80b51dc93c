// `cutover workload`, the proof tool: N client connections through any
// endpoint (usually the proxy) running appends, bank transfers and reads, with
// a ledger of every acknowledged write, then a check against the final
// primary that nothing acknowledged was lost or duplicated and that the bank
// total never changed.
//
// The operations:
// - append, autocommit: INSERT of (client id, next sequence number);
// - transfer, an explicit transaction: move a small amount between two
//   accounts, so the total of all balances never changes;
// - read: a point select of an account, of one of the client's own
//   acknowledged appends (which must be there), or the bank total (which must
//   be intact).
// Every failed operation is counted by its error; none is retried or hidden.
//
// Typical use:
//   Setup(primary, options);
//   Workload w(options);
//   Start(); ... (a switchover) ...; Stop();
//   auto report = w.Check(new_primary);
//
// One Workload per schema at a time: appends of a run are numbered above the
// highest seq the schema held when it started.
// Thread-safety: Start/Stop/Report/Check from one thread; the live counters
// (operations(), error_count(), longest_op_ms(), running()) from any thread
// once Start() has returned; the clients run on threads of their own.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "common/error.h"
#include "db/endpoint.h"
#include "workload/options.h"
#include "workload/report.h"

namespace cutover::workload {

class Client;
struct RunState;

// Creates (drops first if `recreate`) the schema with tables
// appends(client INT, seq BIGINT, PRIMARY KEY(client, seq), payload) and
// accounts(id INT PRIMARY KEY, balance BIGINT), filled with `accounts` rows of
// initial_balance. Without `recreate`, existing tables are kept if they hold
// the right number of accounts.
[[nodiscard]] Status Setup(const db::Endpoint& primary, const WorkloadOptions& options, bool recreate = true);

class Workload {
 public:
  explicit Workload(WorkloadOptions options);
  ~Workload();  // stops and joins
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  // Checks the options and the schema (set up, bank intact), then connects
  // every client; an error if any cannot connect, and then nothing runs.
  // REQUIRES: Start() has not been called.
  [[nodiscard]] Status Start();
  // Asks clients to finish their current operation and joins them. Idempotent.
  void Stop();
  // True from Start() until every client has ended (Stop(), or the duration ran out).
  bool running() const;

  // Live counters for a progress display: successful operations so far,
  // errors so far, and the longest operation so far in ms, counting one still
  // under way (a stall shows while it lasts).
  uint64_t operations() const;
  uint64_t error_count() const;
  double longest_op_ms() const;

  // What the clients saw, without the check. Stops first if needed.
  // REQUIRES: Start() succeeded.
  WorkloadReport Report();
  // Reads the final primary and fills the check fields. Stops first if needed.
  // REQUIRES: Start() succeeded.
  [[nodiscard]] Result<WorkloadReport> Check(const db::Endpoint& final_primary);

 private:
  Status ValidateOptions() const;
  // Reads where this run's appends start, and makes sure the bank is set up and intact.
  Status Prepare();
  // Builds report_ from the joined clients.
  void Summarize();

  WorkloadOptions options_;
  std::unique_ptr<RunState> run_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::thread> threads_;
  std::atomic<int> live_{0};              // client threads not yet ended
  bool started_ = false;                  // Has Start() succeeded?
  std::optional<WorkloadReport> report_;  // set once stopped and joined
};

}  // namespace cutover::workload
