#include "clone/chunk_copier.h"

#include <fmt/format.h>

#include "db/sql_literal.h"

namespace cutover::clone {
namespace {

std::string InsertHead(const db::TableInfo& t) {
  std::string columns;
  for (const db::ColumnInfo& c : t.columns) {
    if (c.generated) continue;
    columns += (columns.empty() ? "" : ",") + db::QuoteIdentifier(c.name);
  }
  return fmt::format("INSERT INTO {} ({}) VALUES ", t.QualifiedName(), columns);
}

}  // namespace

Result<db::Connection> ChunkCopier::OpenTargetSession(const db::Endpoint& target) {
  db::ConnectOptions options;
  options.charset = "binary";
  auto conn = db::Connection::Connect(target, options);
  if (!conn) return conn;
  for (const char* sql :
       {"SET SESSION sql_log_bin = 0", "SET SESSION unique_checks = 0", "SET SESSION foreign_key_checks = 0",
        "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'", "SET SESSION time_zone = '+00:00'",
        "SET SESSION wait_timeout = 86400"}) {
    if (Status st = conn->Execute(sql); !st) return Fail(st.error());
  }
  return conn;
}

Status ChunkCopier::Copy(const db::TableInfo& table, const Chunk& chunk, const std::atomic<bool>& cancel,
                         std::atomic<uint64_t>& rows, std::atomic<uint64_t>& bytes) {
  const std::string head = InsertHead(table);
  std::vector<db::ValueKind> kinds;
  for (const db::ColumnInfo& c : table.columns) {
    if (!c.generated) kinds.push_back(c.kind);
  }
  statement_.clear();
  pending_rows_ = pending_bytes_ = 0;
  bool write_failed = false;  // tells a target error from a source error inside Stream
  auto flush = [&]() -> Status {
    if (pending_rows_ == 0) return {};
    if (Status st = target_.Execute(statement_); !st) {
      write_failed = true;
      return Fail(st.error().WithContext("writing to " + table.DisplayName()));
    }
    rows += pending_rows_;
    bytes += pending_bytes_;
    statement_.clear();
    pending_rows_ = pending_bytes_ = 0;
    return {};
  };
  Status streamed = source_.Stream(ChunkSelect(table, chunk.where), [&](std::span<const db::FieldView> row) -> Status {
    if (cancel) return Fail(Error::Cancelled("interrupted"));
    statement_ += pending_rows_ == 0 ? head : ",";
    statement_ += '(';
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) statement_ += ',';
      db::AppendLiteral(statement_, kinds[i], row[i]);
      if (row[i]) pending_bytes_ += row[i]->size();
    }
    statement_ += ')';
    ++pending_rows_;
    if (statement_.size() >= max_statement_bytes_) return flush();
    return {};
  });
  if (!streamed) {
    if (streamed.error().code() == ErrorCode::kCancelled || write_failed) return streamed;
    return Fail(streamed.error().WithContext("reading " + table.DisplayName()));
  }
  return flush();
}

}  // namespace cutover::clone
