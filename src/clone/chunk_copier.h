// Copies one chunk: streams its rows from a snapshot session on the source
// and writes them to the target in batches of bounded size, with LOAD DATA
// LOCAL (from memory; the server parses it much faster) or, where the target
// refuses local files, multi-row INSERTs.
//
// Both sessions use SET NAMES binary and time_zone '+00:00', so every value
// (binary, utf8mb4, latin1, TIMESTAMP) travels as its exact bytes. A batch
// that leaves warnings on the target (a value changed on the way) fails the copy.
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

enum class WriteMethod { kLoadData, kInsert };

class ChunkCopier {
 public:
  // Opens the worker's target session: binary character set, no binary
  // logging, no unique or foreign key checks, the copy's sql_mode. Its read
  // timeout allows for one statement reading `bytes_before_answer` first (a
  // batch, or the biggest table when its indexes are built after the data).
  [[nodiscard]] static Result<db::Connection> OpenTargetSession(const db::Endpoint& target,
                                                                uint64_t bytes_before_answer);
  // kLoadData when the target allows LOAD DATA LOCAL (@@local_infile).
  [[nodiscard]] static Result<WriteMethod> ChooseWriteMethod(db::Connection& target);

  ChunkCopier(db::Connection& source, db::Connection& target, WriteMethod method, uint64_t batch_bytes)
      : source_(source), target_(target), method_(method), batch_bytes_(batch_bytes) {}

  // Copies the rows of `table` that match `chunk`, adding to `rows` and
  // `bytes` as each batch succeeds. kCancelled once `cancel` is set.
  [[nodiscard]] Status Copy(const db::TableInfo& table, const Chunk& chunk, const std::atomic<bool>& cancel,
                            std::atomic<uint64_t>& rows, std::atomic<uint64_t>& bytes);

 private:
  Status Flush(const db::TableInfo& table, const std::string& head);
  Status CheckWarnings(const db::TableInfo& table);

  db::Connection& source_;
  db::Connection& target_;
  const WriteMethod method_;
  const uint64_t batch_bytes_;
  std::string batch_;  // rows waiting to be written; reused between chunks
  uint64_t batch_rows_ = 0;
  uint64_t batch_value_bytes_ = 0;
};

}  // namespace cutover::clone
