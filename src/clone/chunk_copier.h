// Copies one chunk: streams its rows from a snapshot session on the source
// and writes them to the target as multi-row INSERTs of bounded size.
//
// Both sessions use SET NAMES binary and time_zone '+00:00', so every value
// (binary, utf8mb4, latin1, TIMESTAMP) travels as its exact bytes.
// Thread-safety: one ChunkCopier per worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "clone/chunk_plan.h"
#include "common/error.h"
#include "db/catalog.h"
#include "db/connection.h"
#include "db/endpoint.h"

namespace cutover::clone {

class ChunkCopier {
 public:
  // Opens the worker's target session: binary character set, no binary
  // logging, no unique or foreign key checks, the copy's sql_mode.
  [[nodiscard]] static Result<db::Connection> OpenTargetSession(const db::Endpoint& target);

  ChunkCopier(db::Connection& source, db::Connection& target, uint64_t max_statement_bytes)
      : source_(source), target_(target), max_statement_bytes_(max_statement_bytes) {}

  // Copies the rows of `table` that match `chunk`, adding to `rows` and
  // `bytes` as each INSERT succeeds. kCancelled once `cancel` is set.
  [[nodiscard]] Status Copy(const db::TableInfo& table, const Chunk& chunk, const std::atomic<bool>& cancel,
                            std::atomic<uint64_t>& rows, std::atomic<uint64_t>& bytes);

 private:
  db::Connection& source_;
  db::Connection& target_;
  const uint64_t max_statement_bytes_;
  std::string statement_;  // the INSERT being built; reused between chunks
  uint64_t pending_rows_ = 0;
  uint64_t pending_bytes_ = 0;
};

}  // namespace cutover::clone
