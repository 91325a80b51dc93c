// `cutover verify`: proves that source and target hold the same rows while
// the source keeps writing.
//
// Each table is cut into key-range chunks (ChunkWalker). Worker threads
// compare a chunk by running the same checksum query (row_hash.h) on a source
// session and a target session that see the same GTID (AlignedRound): only a
// count and 64 bits cross the network for an equal chunk. A differing chunk
// is drilled down, inside the same round, to the keys that differ; at the end
// those keys are compared once more in a fresh round, after replication has
// moved on, and only the ones that still differ are reported.
// Thread-safety: RunVerify blocks its caller and runs its own threads;
// `cancel` may be set from another thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "db/endpoint.h"

namespace cutover::verify {

struct VerifyOptions {
  db::Endpoint source;
  db::Endpoint target;
  int threads = 2;                                // sessions per server
  std::chrono::milliseconds chunk_time{250};      // checksum time aimed at per chunk
  uint64_t initial_chunk_rows = 10000;
  int64_t max_lag_seconds = 10;                   // pause while the target lags more
  std::chrono::seconds round_time{30};            // a round's snapshots live this long
  std::chrono::seconds align_timeout{60};         // for the target to reach a round's GTID
  size_t max_keys_per_table = 1000;               // differing keys reported per table
  std::vector<std::string> schemas;               // empty: every user schema of the source
};

enum class DiffKind { kMissingOnTarget, kExtraOnTarget, kChanged };
std::string_view DiffKindName(DiffKind kind);  // "missing on target", ...

struct KeyDiff {
  std::string key;  // the key as SQL literals: 42, or ('eu', 7)
  DiffKind kind;
};

enum class Verdict { kIdentical, kDifferent, kMissingOnTarget, kExtraOnTarget, kColumnsDiffer };
std::string_view VerdictName(Verdict verdict);  // "identical", "DIFFERENT", ...

struct TableVerdict {
  std::string table;  // schema.name
  Verdict verdict = Verdict::kIdentical;
  uint64_t rows = 0;  // on the source
  size_t chunks = 0;
  double seconds = 0;  // summed over its chunks
  bool keyless = false;  // compared whole: differences counted, not named
  uint64_t differing_rows = 0;
  std::vector<KeyDiff> diffs;  // at most max_keys_per_table
};

struct VerifyReport {
  std::vector<TableVerdict> tables;
  int rounds = 0;
  std::chrono::milliseconds longest_replication_pause{0};
  std::chrono::milliseconds total_time{0};
  // Transactions in the target's binary log that the source never had
  // (written on the target directly): its history differs even where its
  // data does not. Empty when none.
  std::string errant_gtids;
  bool identical() const;  // every table identical and no errant transaction
};

class VerifyObserver {
 public:
  virtual ~VerifyObserver() = default;
  virtual void Step(std::string_view what) = 0;
  virtual void Warning(std::string_view what) = 0;
  // Called now and then from RunVerify's thread.
  virtual void Progress(size_t tables_done, size_t tables, uint64_t rows, size_t differing_chunks) = 0;
};

// kPrecondition when the target does not replicate; other errors when a
// server fails mid-run. Differences are not errors: they are in the report.
[[nodiscard]] Result<VerifyReport> RunVerify(const VerifyOptions& options, VerifyObserver& observer,
                                             const std::atomic<bool>& cancel);

}  // namespace cutover::verify
