#include "clone/chunk_plan.h"

#include <fmt/format.h>

#include "db/key_range.h"

namespace cutover::clone {
namespace {

using db::QuoteIdentifier;

using Wide = db::WideInt;

Status PlanIntegerRanges(db::Connection& snapshot, const db::TableInfo& t, size_t index, uint64_t chunk_rows,
                         std::vector<Chunk>& out) {
  const std::string column = QuoteIdentifier(t.columns[t.key_columns.front()].name);
  auto r = snapshot.Query(fmt::format("SELECT MIN({0}), MAX({0}) FROM {1}", column, t.QualifiedName()));
  if (!r) return Fail(r.error());
  const db::Row& row = r->rows.at(0);
  if (!row[0] || !row[1]) {  // empty table
    out.push_back({index, ""});
    return {};
  }
  const Wide lo = db::ParseWideInt(*row[0]);
  const Wide hi = db::ParseWideInt(*row[1]);
  const Wide span = hi - lo + 1;
  const Wide rows = std::max<uint64_t>(t.estimated_rows, 1);
  Wide width = std::max<Wide>(1, span * static_cast<Wide>(chunk_rows) / rows);
  if (rows < static_cast<Wide>(chunk_rows)) width = span;
  const auto text = db::FormatWideInt;
  for (Wide start = lo; start <= hi; start += width) {
    const bool first = start == lo;
    const bool last = start + width > hi;
    std::string where;
    if (!first) where = fmt::format("{} >= {}", column, text(start));
    if (!last) where += fmt::format("{}{} < {}", where.empty() ? "" : " AND ", column, text(start + width));
    out.push_back({index, where});
    if (last) break;
  }
  return {};
}

Status PlanByWalking(db::Connection& snapshot, const db::TableInfo& t, size_t index, uint64_t chunk_rows,
                     std::vector<Chunk>& out) {
  std::string lower;  // condition for the current chunk's lower bound
  while (true) {
    std::vector<std::string> boundary_bytes;
    bool found = false;
    Status st = snapshot.Stream(
        fmt::format("SELECT {} FROM {}{}{} ORDER BY {} LIMIT 1 OFFSET {}", db::KeyColumnList(t), t.QualifiedName(), db::ForceKey(t),
                    lower.empty() ? "" : " WHERE " + lower, db::KeyColumnList(t), chunk_rows),
        [&](std::span<const db::FieldView> row) -> Status {
          found = true;
          for (const db::FieldView& f : row) boundary_bytes.push_back(f ? std::string(*f) : std::string());
          return {};
        });
    if (!st) return st;
    if (!found) {
      out.push_back({index, lower});
      return {};
    }
    std::vector<db::FieldView> boundary(boundary_bytes.begin(), boundary_bytes.end());
    std::string upper = db::KeyCompare(t, boundary, "<");
    out.push_back({index, lower.empty() ? upper : lower + " AND " + upper});
    lower = db::KeyCompare(t, boundary, ">=");
  }
}

}  // namespace

std::string ChunkSelect(const db::TableInfo& t, const std::string& where) {
  std::string columns;
  for (const db::ColumnInfo& c : t.columns) {
    if (c.generated) continue;
    columns += columns.empty() ? "" : ",";
    // The text protocol prints FLOAT with 6 digits; as a DOUBLE it is exact.
    if (c.data_type == "float") columns += fmt::format("CAST({} AS DOUBLE)", QuoteIdentifier(c.name));
    else columns += QuoteIdentifier(c.name);
  }
  std::string sql = fmt::format("SELECT {} FROM {}", columns, t.QualifiedName());
  sql += db::ForceKey(t);
  if (!where.empty()) sql += " WHERE " + where;
  return sql;
}

Status PlanChunks(db::Connection& snapshot, const db::TableInfo& table, size_t table_index, uint64_t chunk_rows,
                  std::vector<Chunk>& out) {
  if (table.key_columns.empty()) {
    out.push_back({table_index, ""});
    return {};
  }
  if (db::IsIntegerDataType(table.columns[table.key_columns.front()].data_type)) {
    return PlanIntegerRanges(snapshot, table, table_index, chunk_rows, out);
  }
  return PlanByWalking(snapshot, table, table_index, chunk_rows, out);
}

}  // namespace cutover::clone
