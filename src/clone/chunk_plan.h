// Splits each table into key-range chunks that copy workers can take in any
// order, so that one huge table is copied by every worker at once.
//
// - Key whose first column is an integer: equal-width ranges of that column
//   between its MIN and MAX, sized from the row estimate (no scan).
// - Any other key: a walk along the key that takes every chunk_rows-th value
//   as a boundary (one index scan, inside the snapshot).
// - No usable key: the whole table is one chunk.
// Ranges are half-open and cover the whole key space, so every row falls in
// exactly one chunk even when the estimate is wrong.
// Thread-safety: plain functions over one connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/catalog.h"
#include "db/connection.h"

namespace cutover::clone {

struct Chunk {
  size_t table = 0;   // index into the table list
  std::string where;  // SQL condition on the key; empty: the whole table
};

// Plans the chunks of `table` using `snapshot` (a session inside the snapshot,
// with SET NAMES binary). Appends to `out`.
[[nodiscard]] Status PlanChunks(db::Connection& snapshot, const db::TableInfo& table, size_t table_index,
                                uint64_t chunk_rows, std::vector<Chunk>& out);

// SELECT of the copied (non-generated) columns of `table` for one chunk.
std::string ChunkSelect(const db::TableInfo& table, const std::string& where);

}  // namespace cutover::clone
