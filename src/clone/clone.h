// `cutover clone`: turns an empty target into a replicating copy of a live
// MariaDB source without locking it.
//
//   pre-checks -> consistent snapshot (GTID) -> schema -> parallel chunked
//   data copy -> indexes, triggers, events -> users -> replication from the
//   snapshot's GTID -> follow until caught up.
//
// While it copies, the target carries a marker (schema `_cutover`) listing
// the schemas the clone created. A rerun that finds it drops them and starts
// over, so an interrupted copy never looks complete. Nothing is ever written
// to the source, except the replication user with --create-replication-user.
// Thread-safety: RunClone blocks its caller and runs its own worker threads;
// `cancel` may be set from any thread (e.g. a signal handler thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "db/endpoint.h"
#include "replication/replica.h"

namespace cutover::clone {

struct CloneOptions {
  db::Endpoint source;
  db::Endpoint target;
  replication::SourceAddress replication;  // how the target reaches the source, as whom
  int threads = 4;
  uint64_t chunk_rows = 20000;
  bool force = false;                    // drop the source's schemas on the target first
  bool with_users = false;               // copy accounts and grants
  bool create_replication_user = false;  // create the replication account on the source
  bool adopt = false;                    // the target already replicates: validate, skip the copy
  bool defer_indexes = true;             // build secondary indexes after each table's data
  bool wait = true;                      // follow replication until caught up
  int replica_threads = 4;               // slave_parallel_threads on the target; 0: leave it
  std::chrono::seconds catchup_timeout{0};  // 0: wait as long as it takes
};

// Live counters of one table's copy, read by the progress display.
struct TableProgress {
  std::string name;  // schema.table
  uint64_t estimated_rows = 0;
  size_t chunks = 0;
  std::atomic<uint64_t> rows{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<size_t> chunks_done{0};
  std::atomic<bool> done{false};
};

// What RunClone tells its caller as it goes. Called from RunClone's thread
// except TableDone, which worker threads call.
class CloneObserver {
 public:
  virtual ~CloneObserver() = default;
  virtual void Step(std::string_view what) = 0;
  virtual void Warning(std::string_view what) = 0;
  // `tables` stays valid until CopyFinished().
  virtual void CopyStarted(const std::deque<TableProgress>& tables) = 0;
  virtual void CopyFinished() = 0;
  virtual void Lag(const replication::LagSample& sample) = 0;
};

struct CloneReport {
  bool adopted = false;  // --adopt: nothing was copied
  std::string gtid;      // where replication started
  int snapshot_attempts = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  size_t tables = 0;
  std::chrono::milliseconds copy_time{0};
  std::chrono::milliseconds total_time{0};
};

[[nodiscard]] Result<CloneReport> RunClone(const CloneOptions& options, CloneObserver& observer,
                                           const std::atomic<bool>& cancel);

}  // namespace cutover::clone
