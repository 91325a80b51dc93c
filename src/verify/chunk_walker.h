// Hands out the chunks of one table, in key order, each sized so that
// checksumming it takes about the target time (the size adapts as chunks
// are measured). Several workers may take chunks of the same table.
//
// - Key starting with an integer column: ranges of that column, computed
//   without a query from MIN/MAX and the row estimate.
// - Any other key: the next boundary is read from the source (LIMIT 1 OFFSET n).
// - No usable key: the whole table is one chunk.
// The first chunk has no lower bound and the last no upper bound, so every
// row, even one inserted after the walk started, falls in exactly one chunk.
// Thread-safety: Next() and Record() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/catalog.h"
#include "db/connection.h"
#include "db/key_range.h"

namespace cutover::verify {

class ChunkWalker {
 public:
  ChunkWalker(const db::TableInfo& table, uint64_t initial_rows, std::chrono::milliseconds target_time);

  // The next chunk's condition ("" for the whole table); std::nullopt once the
  // table is done, or when `stop` is set. Once a query of the walker's has
  // failed, every later call returns that error without a query: a caller
  // that waited here while another worker's query to a stalled server timed
  // out must not send one of its own and wait out the same timeout again
  // (it may get the lock before that worker has set `stop`). `source` is a
  // session of the caller's, used for MIN/MAX and boundaries.
  [[nodiscard]] Result<std::optional<std::string>> Next(db::Connection& source, const std::atomic<bool>& stop);

  // Feeds back how long a chunk of `rows` rows took, to size the next ones.
  void Record(std::chrono::duration<double> elapsed, uint64_t rows);

  const db::TableInfo& table() const { return table_; }

 private:
  using Wide = db::WideInt;

  Result<std::optional<std::string>> NextInteger(db::Connection& source);
  Result<std::optional<std::string>> NextByWalking(db::Connection& source);

  const db::TableInfo& table_;
  const std::chrono::milliseconds target_time_;
  std::mutex mu_;  // guards everything below
  uint64_t rows_per_chunk_;
  bool started_ = false;
  bool finished_ = false;
  std::optional<Error> failed_;  // the first failed query's error
  // Integer keys: the next range starts at next_; density_ is rows per key value.
  Wide next_ = 0;
  Wide max_ = 0;
  double density_ = 1;
  // Other keys: the next chunk starts at lower_ (none for the first chunk).
  std::optional<std::vector<std::string>> lower_;
};

}  // namespace cutover::verify
