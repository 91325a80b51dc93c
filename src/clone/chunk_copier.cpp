#include "clone/chunk_copier.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "db/sql_literal.h"

namespace cutover::clone {
namespace {

std::vector<db::ValueKind> CopiedKinds(const db::TableInfo& t) {
  std::vector<db::ValueKind> kinds;
  for (const db::ColumnInfo& c : t.columns) {
    if (!c.generated) kinds.push_back(c.kind);
  }
  return kinds;
}

std::string InsertHead(const db::TableInfo& t) {
  std::string columns;
  for (const db::ColumnInfo& c : t.columns) {
    if (c.generated) continue;
    columns += (columns.empty() ? "" : ",") + db::QuoteIdentifier(c.name);
  }
  return fmt::format("INSERT INTO {} ({}) VALUES ", t.QualifiedName(), columns);
}

// BIT columns go through a variable: LOAD DATA would store the integer's
// text as bits.
std::string LoadDataStatement(const db::TableInfo& t) {
  std::string columns, sets;
  int bits = 0;
  for (const db::ColumnInfo& c : t.columns) {
    if (c.generated) continue;
    columns += columns.empty() ? "" : ",";
    if (c.kind == db::ValueKind::kBit) {
      const std::string var = fmt::format("@cutover_bit{}", bits++);
      columns += var;
      sets += fmt::format("{}{} = CAST({} AS UNSIGNED)", sets.empty() ? " SET " : ", ", db::QuoteIdentifier(c.name), var);
    } else {
      columns += db::QuoteIdentifier(c.name);
    }
  }
  return fmt::format(
      "LOAD DATA LOCAL INFILE 'cutover-chunk' INTO TABLE {} CHARACTER SET binary FIELDS TERMINATED BY '\\t' "
      "ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({}){}",
      t.QualifiedName(), columns, sets);
}

// "target 127.0.0.1:3307: <what went wrong> (writing shop.orders)".
Error OnTarget(const Error& e, const db::TableInfo& t) {
  return e.OnServer("target").WithSuffix(fmt::format(" (writing {})", t.DisplayName()));
}

}  // namespace

Result<db::Connection> ChunkCopier::OpenTargetSession(const db::Endpoint& target, uint64_t bytes_before_answer) {
  db::ConnectOptions options;
  options.charset = "binary";
  options.local_infile = true;
  options.read_timeout = db::DataReadTimeout(target, bytes_before_answer);
  options.write_timeout = options.read_timeout;
  auto conn = db::Connection::Connect(target, options);
  if (!conn) return Fail(conn.error().OnServer("target"));
  for (const char* sql :
       {"SET SESSION sql_log_bin = 0", "SET SESSION unique_checks = 0", "SET SESSION foreign_key_checks = 0",
        "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'", "SET SESSION time_zone = '+00:00'",
        "SET SESSION wait_timeout = 86400"}) {
    if (Status st = conn->Execute(sql); !st) return Fail(st.error());
  }
  return conn;
}

Result<WriteMethod> ChunkCopier::ChooseWriteMethod(db::Connection& target) {
  auto v = target.QueryValue("SELECT @@GLOBAL.local_infile");
  if (!v) return Fail(v.error());
  return *v == "1" ? WriteMethod::kLoadData : WriteMethod::kInsert;
}

Status ChunkCopier::CheckWarnings(const db::TableInfo& table) {
  const unsigned int count = target_.warning_count();
  if (count == 0) return {};
  std::string details;
  if (auto w = target_.Query("SHOW WARNINGS LIMIT 3")) {
    for (const db::Row& row : w->rows) details += fmt::format("; {} {}", row.at(1).value_or(""), row.at(2).value_or(""));
  }
  return Fail(Error::Precondition(fmt::format(
      "target {}: {} warning(s) while writing {}, so a value may have changed on the way{}", target_.where(), count,
      table.DisplayName(), details)));
}

Status ChunkCopier::Flush(const db::TableInfo& table, const std::string& head) {
  if (batch_rows_ == 0) return {};
  // The first batches into an empty table take InnoDB's bulk-insert path,
  // which locks the whole table (MDEV-24621): parallel workers can deadlock
  // there. The losing statement was rolled back whole, so it is retried.
  constexpr int kErrDeadlock = 1213;
  constexpr int kErrLockWaitTimeout = 1205;
  Status st;
  for (int attempt = 0; attempt < 10; ++attempt) {
    st = method_ == WriteMethod::kLoadData ? target_.LoadDataLocal(head, batch_) : target_.Execute(batch_);
    if (st || (st.error().server_errno() != kErrDeadlock && st.error().server_errno() != kErrLockWaitTimeout)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * (attempt + 1)));
  }
  if (!st) return Fail(OnTarget(st.error(), table));
  if (Status warned = CheckWarnings(table); !warned) return warned;
  batch_.clear();
  batch_rows_ = batch_value_bytes_ = 0;
  return {};
}

Status ChunkCopier::Copy(const db::TableInfo& table, const Chunk& chunk, const std::atomic<bool>& cancel,
                         std::atomic<uint64_t>& rows, std::atomic<uint64_t>& bytes) {
  const bool load_data = method_ == WriteMethod::kLoadData;
  const std::string head = load_data ? LoadDataStatement(table) : InsertHead(table);
  const std::vector<db::ValueKind> kinds = CopiedKinds(table);
  batch_.clear();
  batch_rows_ = batch_value_bytes_ = 0;
  bool write_failed = false;  // tells a target error from a source error inside Stream
  auto flush = [&]() -> Status {
    const uint64_t n = batch_rows_, b = batch_value_bytes_;
    if (Status st = Flush(table, head); !st) {
      write_failed = true;
      return st;
    }
    rows += n;
    bytes += b;
    return {};
  };
  Status streamed = source_.Stream(ChunkSelect(table, chunk.where), [&](std::span<const db::FieldView> row) -> Status {
    if (cancel) return Fail(Error::Cancelled("interrupted"));
    if (load_data) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) batch_ += '\t';
        db::AppendLoadDataField(batch_, kinds[i], row[i]);
      }
      batch_ += '\n';
    } else {
      batch_ += batch_rows_ == 0 ? head : ",";
      batch_ += '(';
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) batch_ += ',';
        db::AppendLiteral(batch_, kinds[i], row[i]);
      }
      batch_ += ')';
    }
    for (const db::FieldView& f : row) batch_value_bytes_ += f ? f->size() : 0;
    ++batch_rows_;
    if (batch_.size() >= batch_bytes_) return flush();
    return {};
  });
  if (!streamed) {
    if (streamed.error().code() == ErrorCode::kCancelled || write_failed) return streamed;
    return Fail(streamed.error().OnServer("source").WithSuffix(fmt::format(" (reading {})", table.DisplayName())));
  }
  return flush();
}

}  // namespace cutover::clone
