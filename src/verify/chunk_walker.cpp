#include "verify/chunk_walker.h"

#include <algorithm>

#include <fmt/format.h>

#include "db/key_range.h"

namespace cutover::verify {
namespace {

constexpr uint64_t kMinChunkRows = 500;
constexpr uint64_t kMaxChunkRows = 1'000'000;

}  // namespace

ChunkWalker::ChunkWalker(const db::TableInfo& table, uint64_t initial_rows, std::chrono::milliseconds target_time)
    : table_(table), target_time_(target_time), rows_per_chunk_(initial_rows) {}

void ChunkWalker::Record(std::chrono::duration<double> elapsed, uint64_t rows) {
  if (rows < 100 || elapsed.count() <= 0) return;  // too small to say anything
  std::lock_guard lock(mu_);
  const double target = std::chrono::duration<double>(target_time_).count();
  const double factor = std::clamp(target / elapsed.count(), 0.5, 2.0);
  const double wanted = static_cast<double>(rows) * factor;
  rows_per_chunk_ = std::clamp<uint64_t>(static_cast<uint64_t>(wanted), kMinChunkRows, kMaxChunkRows);
}

Result<std::optional<std::string>> ChunkWalker::Next(db::Connection& source, const std::atomic<bool>& stop) {
  std::lock_guard lock(mu_);
  if (failed_) return Fail(*failed_);
  if (finished_ || stop) return std::optional<std::string>();
  if (table_.key_columns.empty()) {
    finished_ = true;
    return std::optional<std::string>("");
  }
  auto next = db::IsIntegerDataType(table_.columns[table_.key_columns.front()].data_type) ? NextInteger(source)
                                                                                           : NextByWalking(source);
  if (!next) failed_ = next.error();
  return next;
}

Result<std::optional<std::string>> ChunkWalker::NextInteger(db::Connection& source) {
  const std::string column = db::QuoteIdentifier(table_.columns[table_.key_columns.front()].name);
  const auto text = db::FormatWideInt;
  if (!started_) {
    started_ = true;
    auto r = source.Query(fmt::format("SELECT MIN({0}), MAX({0}) FROM {1}", column, table_.QualifiedName()));
    if (!r) return Fail(r.error());
    const db::Row& row = r->rows.at(0);
    if (!row[0] || !row[1]) {
      finished_ = true;
      return std::optional<std::string>("");
    }
    next_ = db::ParseWideInt(*row[0]);
    max_ = db::ParseWideInt(*row[1]);
    const double span = static_cast<double>(max_ - next_ + 1);
    density_ = std::max(1e-9, static_cast<double>(std::max<uint64_t>(table_.estimated_rows, 1)) / span);
    // The first chunk also takes every key below today's minimum.
    const Wide width = std::max<Wide>(1, static_cast<Wide>(rows_per_chunk_ / density_));
    const Wide upper = next_ + width;
    next_ = upper;
    if (upper > max_) {
      finished_ = true;
      return std::optional<std::string>("");
    }
    return std::optional<std::string>(fmt::format("{} < {}", column, text(upper)));
  }
  const Wide width = std::max<Wide>(1, static_cast<Wide>(rows_per_chunk_ / density_));
  const Wide lower = next_;
  next_ = lower + width;
  if (next_ > max_) {
    finished_ = true;  // the last chunk is open-ended
    return std::optional<std::string>(fmt::format("{} >= {}", column, text(lower)));
  }
  return std::optional<std::string>(fmt::format("{} >= {} AND {} < {}", column, text(lower), column, text(next_)));
}

Result<std::optional<std::string>> ChunkWalker::NextByWalking(db::Connection& source) {
  std::vector<db::FieldView> lower_view;
  if (lower_) lower_view.assign(lower_->begin(), lower_->end());
  const std::string lower_condition = lower_ ? db::KeyCompare(table_, lower_view, ">=") : "";
  std::optional<std::vector<std::string>> boundary;
  Status st = source.Stream(
      fmt::format("SELECT {} FROM {}{}{} ORDER BY {} LIMIT 1 OFFSET {}", db::KeyColumnList(table_),
                  table_.QualifiedName(), db::ForceKey(table_), lower_ ? " WHERE " + lower_condition : "",
                  db::KeyColumnList(table_), rows_per_chunk_),
      [&](std::span<const db::FieldView> row) -> Status {
        boundary.emplace();
        for (const db::FieldView& f : row) boundary->push_back(f ? std::string(*f) : std::string());
        return {};
      });
  if (!st) return Fail(st.error());
  if (!boundary) {
    finished_ = true;
    return std::optional<std::string>(lower_condition);
  }
  std::vector<db::FieldView> upper_view(boundary->begin(), boundary->end());
  const std::string upper = db::KeyCompare(table_, upper_view, "<");
  lower_ = std::move(boundary);
  return std::optional<std::string>(lower_condition.empty() ? upper : lower_condition + " AND " + upper);
}

}  // namespace cutover::verify
