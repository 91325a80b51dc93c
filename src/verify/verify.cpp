#include "verify/verify.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "clone/clone_marker.h"
#include "db/catalog.h"
#include "db/key_range.h"
#include "db/sql_literal.h"
#include "replication/replica.h"
#include "verify/aligned_round.h"
#include "verify/chunk_walker.h"
#include "verify/row_hash.h"

namespace cutover::verify {
namespace {

using Clock = std::chrono::steady_clock;
using Key = std::vector<std::string>;  // raw key bytes, one per key column

// A differing key found in a round, kept raw so that it can be rechecked.
struct PendingDiff {
  Key key;
  DiffKind kind;
};

// Everything known about one table while the run goes on.
struct TableState {
  db::TableInfo info;
  std::unique_ptr<ChunkWalker> walker;
  std::mutex mu;  // guards the fields below
  TableVerdict verdict;
  std::vector<PendingDiff> pending;
};

std::string DisplayKey(const db::TableInfo& t, const Key& key) {
  std::string out = key.size() > 1 ? "(" : "";
  for (size_t i = 0; i < key.size(); ++i) {
    if (i) out += ", ";
    db::AppendLiteral(out, t.columns[t.key_columns[i]].kind, db::FieldView(key[i]));
  }
  return key.size() > 1 ? out + ")" : out;
}

// Row hashes of `where`, by key (or, keyless, by hash with a count).
Result<std::map<Key, std::string>> RowHashes(db::Connection& conn, const db::TableInfo& t, const std::string& where) {
  std::map<Key, std::string> out;
  Status st = conn.Stream(RowHashesSql(t, where), [&](std::span<const db::FieldView> row) -> Status {
    Key key;
    for (size_t i = 0; i + 1 < row.size(); ++i) key.emplace_back(row[i].value_or(""));
    std::string hash(row.back().value_or(""));
    if (t.key_columns.empty()) {
      // Keyless: the "key" is the hash; the value counts duplicates.
      std::string& count = out[{hash}];
      count = std::to_string((count.empty() ? 0 : std::stoull(count)) + 1);
    } else {
      out.emplace(std::move(key), std::move(hash));
    }
    return {};
  });
  if (!st) return Fail(st.error());
  return out;
}

// Compares two sides' row hashes; returns the keys that differ.
std::vector<PendingDiff> Diff(const std::map<Key, std::string>& source, const std::map<Key, std::string>& target) {
  std::vector<PendingDiff> out;
  for (const auto& [key, hash] : source) {
    auto it = target.find(key);
    if (it == target.end()) out.push_back({key, DiffKind::kMissingOnTarget});
    else if (it->second != hash) out.push_back({key, DiffKind::kChanged});
  }
  for (const auto& [key, hash] : target) {
    if (!source.contains(key)) out.push_back({key, DiffKind::kExtraOnTarget});
  }
  return out;
}

uint64_t KeylessDifferingRows(const std::map<Key, std::string>& source, const std::map<Key, std::string>& target) {
  uint64_t n = 0;
  auto count = [](const std::map<Key, std::string>& m, const Key& k) -> int64_t {
    auto it = m.find(k);
    return it == m.end() ? 0 : static_cast<int64_t>(std::stoull(it->second));
  };
  std::map<Key, bool> all;
  for (const auto& [k, v] : source) all[k] = true;
  for (const auto& [k, v] : target) all[k] = true;
  for (const auto& [k, v] : all) n += static_cast<uint64_t>(std::llabs(count(source, k) - count(target, k)));
  return n;
}

std::string KeysCondition(const db::TableInfo& t, const std::vector<PendingDiff>& diffs, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    std::string one;
    for (size_t c = 0; c < t.key_columns.size(); ++c) {
      const db::ColumnInfo& col = t.columns[t.key_columns[c]];
      one += (c ? " AND " : "") + db::QuoteIdentifier(col.name) + " = ";
      db::AppendLiteral(one, col.kind, db::FieldView(diffs[i].key[c]));
    }
    out += (out.empty() ? "(" : " OR (") + one + ")";
  }
  return out;
}

bool SameColumns(const db::TableInfo& a, const db::TableInfo& b) {
  if (a.columns.size() != b.columns.size()) return false;
  for (size_t i = 0; i < a.columns.size(); ++i) {
    if (a.columns[i].name != b.columns[i].name || a.columns[i].data_type != b.columns[i].data_type) return false;
  }
  return true;
}

class VerifyRun {
 public:
  VerifyRun(const VerifyOptions& options, VerifyObserver& observer, const std::atomic<bool>& cancel)
      : options_(options), observer_(observer), cancel_(cancel) {}

  Result<VerifyReport> Run();

 private:
  Status Precheck(db::Connection& source, db::Connection& target);
  Status PlanTables(db::Connection& source, db::Connection& target);
  Status CompareRound(AlignedRound& round, db::Connection& monitor);
  Status Work(AlignedRound& round, size_t session, Clock::time_point deadline);
  Status CompareChunk(AlignedRound& round, size_t session, TableState& table, const std::string& where);
  Status Recheck(AlignedRound& round);
  void Fail(const Error& e);
  bool AllWalked() const { return next_table_ >= tables_.size(); }

  const VerifyOptions& options_;
  VerifyObserver& observer_;
  const std::atomic<bool>& cancel_;
  std::vector<std::unique_ptr<TableState>> tables_;  // compared chunk by chunk
  std::vector<TableVerdict> settled_;                // decided without chunks (missing, extra, columns)
  std::atomic<size_t> next_table_{0};                // the table workers take chunks from
  std::atomic<bool> throttled_{false};
  std::atomic<bool> stop_{false};
  std::atomic<size_t> differing_chunks_{0};
  std::mutex error_mu_;
  std::optional<Error> error_;
  VerifyReport report_;
};

void VerifyRun::Fail(const Error& e) {
  std::lock_guard lock(error_mu_);
  if (!error_) error_ = e;
  stop_ = true;
}

Status VerifyRun::Precheck(db::Connection& source, db::Connection& target) {
  // First: an errant transaction also stops replication (gtid_strict_mode).
  auto errant = replication::ErrantGtids(target, source);
  if (!errant) return cutover::Fail(errant.error());
  if (!errant->empty()) {
    report_.errant_gtids = replication::FormatGtidList(*errant);
    observer_.Warning(replication::ErrantGtidsError(target, source, *errant).message());
  }
  auto status = replication::ReadReplicaStatus(target);
  if (!status) return cutover::Fail(status.error());
  if (!status->running()) {
    return cutover::Fail(Error::Precondition(fmt::format(
        "target {}: {}. verify compares a replicating target with its source: fix replication (or run cutover clone)",
        target.where(), status->Describe())));
  }
  auto incomplete = clone::FindInterruptedClone(target);
  if (!incomplete) return cutover::Fail(incomplete.error());
  if (*incomplete) {
    return cutover::Fail(Error::Precondition(fmt::format(
        "target {} holds an incomplete clone (started {}); rerun cutover clone first", target.where(),
        (*incomplete)->started)));
  }
  auto log_bin = source.QueryValue("SELECT @@GLOBAL.log_bin");
  if (!log_bin) return cutover::Fail(log_bin.error());
  if (*log_bin != "1") {
    return cutover::Fail(Error::Precondition(fmt::format("source {}: the binary log is off", source.where())));
  }
  return {};
}

Status VerifyRun::PlanTables(db::Connection& source, db::Connection& target) {
  std::vector<std::string> schemas = options_.schemas;
  if (schemas.empty()) {
    auto s = db::ReadUserSchemas(source);
    if (!s) return cutover::Fail(s.error());
    auto t = db::ReadUserSchemas(target);
    if (!t) return cutover::Fail(t.error());
    schemas = *s;
    for (const std::string& name : *t) {
      if (std::find(schemas.begin(), schemas.end(), name) == schemas.end()) schemas.push_back(name);
    }
  }
  auto on_source = db::ReadTables(source, schemas);
  if (!on_source) return cutover::Fail(on_source.error());
  auto on_target = db::ReadTables(target, schemas);
  if (!on_target) return cutover::Fail(on_target.error());
  std::map<std::string, const db::TableInfo*> target_by_name;
  for (const db::TableInfo& t : *on_target) target_by_name[t.DisplayName()] = &t;
  for (const db::TableInfo& t : *on_source) {
    auto it = target_by_name.find(t.DisplayName());
    if (it == target_by_name.end()) {
      settled_.push_back({.table = t.DisplayName(), .verdict = Verdict::kMissingOnTarget});
      continue;
    }
    const db::TableInfo* other = it->second;
    target_by_name.erase(it);
    if (!SameColumns(t, *other)) {
      settled_.push_back({.table = t.DisplayName(), .verdict = Verdict::kColumnsDiffer});
      continue;
    }
    auto state = std::make_unique<TableState>();
    state->info = t;
    state->verdict.table = t.DisplayName();
    state->verdict.keyless = t.key_columns.empty();
    if (state->verdict.keyless) {
      observer_.Warning(fmt::format("{} has no primary or NOT NULL unique key: compared whole, differing rows are "
                                    "counted but cannot be named",
                                    t.DisplayName()));
    }
    tables_.push_back(std::move(state));
  }
  for (const auto& [name, t] : target_by_name) {
    settled_.push_back({.table = name, .verdict = Verdict::kExtraOnTarget});
  }
  // Walkers point into tables_' TableInfo, which no longer moves.
  std::stable_sort(tables_.begin(), tables_.end(),
                   [](const auto& a, const auto& b) { return a->info.data_bytes > b->info.data_bytes; });
  for (auto& t : tables_) {
    t->walker = std::make_unique<ChunkWalker>(t->info, options_.initial_chunk_rows, options_.chunk_time);
  }
  return {};
}

Status VerifyRun::CompareChunk(AlignedRound& round, size_t session, TableState& table, const std::string& where) {
  const db::TableInfo& t = table.info;
  const std::string sql = ChunkChecksumSql(t, where);
  const auto start = Clock::now();
  // Both servers compute at once: the chunk costs the slower of the two.
  Result<db::QueryResult> tgt = cutover::Fail(Error::Cancelled("not run"));
  std::thread on_target([&] { tgt = round.target(session).Query(sql); });
  auto src = round.source(session).Query(sql);
  const auto source_time = Clock::now() - start;
  on_target.join();
  if (!src) return cutover::Fail(src.error().OnServer("source"));
  if (!tgt) return cutover::Fail(tgt.error().OnServer("target"));
  const db::Row& a = src->rows.at(0);
  const db::Row& b = tgt->rows.at(0);
  const uint64_t rows = std::strtoull(a[0].value_or("0").c_str(), nullptr, 10);
  table.walker->Record(source_time, rows);
  {
    std::lock_guard lock(table.mu);
    table.verdict.rows += rows;
    table.verdict.chunks += 1;
    table.verdict.seconds += std::chrono::duration<double>(Clock::now() - start).count();
  }
  if (a == b) return {};
  ++differing_chunks_;
  // Drill down inside the same round: both sides still see the same GTID.
  auto source_rows = RowHashes(round.source(session), t, where);
  if (!source_rows) return cutover::Fail(source_rows.error().OnServer("source"));
  auto target_rows = RowHashes(round.target(session), t, where);
  if (!target_rows) return cutover::Fail(target_rows.error().OnServer("target"));
  std::lock_guard lock(table.mu);
  if (t.key_columns.empty()) {
    table.verdict.differing_rows += KeylessDifferingRows(*source_rows, *target_rows);
    table.verdict.verdict = Verdict::kDifferent;
    return {};
  }
  for (PendingDiff& d : Diff(*source_rows, *target_rows)) table.pending.push_back(std::move(d));
  return {};
}

Status VerifyRun::Work(AlignedRound& round, size_t session, Clock::time_point deadline) {
  while (!stop_ && !cancel_ && Clock::now() < deadline) {
    if (throttled_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    const size_t index = next_table_;
    if (index >= tables_.size()) return {};
    TableState& table = *tables_[index];
    auto where = table.walker->Next(round.source(session), stop_);
    if (!where) return cutover::Fail(where.error().OnServer("source").WithContext("walking " + table.info.DisplayName()));
    // Another worker failed meanwhile: the table is not done, the run is over.
    if (stop_) return {};
    if (!*where) {
      size_t expected = index;
      next_table_.compare_exchange_strong(expected, index + 1);
      continue;
    }
    if (Status st = CompareChunk(round, session, table, **where); !st) {
      return cutover::Fail(st.error().WithContext("comparing " + table.info.DisplayName()));
    }
  }
  return {};
}

Status VerifyRun::CompareRound(AlignedRound& round, db::Connection& monitor) {
  if (Status st = round.Begin(options_.align_timeout); !st) return st;
  ++report_.rounds;
  report_.longest_replication_pause = std::max(report_.longest_replication_pause, round.replication_paused());
  const auto deadline = Clock::now() + options_.round_time;
  std::atomic<size_t> running{round.sessions()};
  {
    std::vector<std::jthread> workers;
    for (size_t i = 0; i < round.sessions(); ++i) {
      workers.emplace_back([this, &round, &running, i, deadline] {
        if (Status st = Work(round, i, deadline); !st) Fail(st.error());
        --running;
      });
    }
    // Watch replication while the workers read: slow down when it lags, stop when it breaks.
    while (running > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      if (cancel_) stop_ = true;
      auto status = replication::ReadReplicaStatus(monitor);
      if (!status) {
        Fail(status.error().WithContext("watching the target's replication"));
        continue;
      }
      if (status->sql_running != "Yes" || !status->last_sql_error.empty() || !status->last_io_error.empty()) {
        Fail(Error::Precondition(fmt::format("target {}: replication broke during verify: {}", monitor.where(),
                                             status->Describe())));
        continue;
      }
      throttled_ = status->seconds_behind && *status->seconds_behind > options_.max_lag_seconds;
      size_t done = std::min(next_table_.load(), tables_.size());
      uint64_t rows = 0;
      for (auto& t : tables_) {
        std::lock_guard lock(t->mu);
        rows += t->verdict.rows;
      }
      observer_.Progress(done, tables_.size(), rows, differing_chunks_);
    }
  }
  // After a failure the sessions are dropped, not rolled back one by one: a
  // stalled server would make each ROLLBACK wait out its timeout.
  if (error_) return cutover::Fail(*error_);
  if (cancel_) return cutover::Fail(Error::Cancelled("interrupted"));
  return round.End();
}

// The differing keys once more, at a later GTID: a difference that replication
// has since resolved is dropped; what remains is reported.
Status VerifyRun::Recheck(AlignedRound& round) {
  if (Status st = round.Begin(options_.align_timeout); !st) return st;
  ++report_.rounds;
  constexpr size_t kBatch = 500;
  for (auto& table : tables_) {
    std::vector<PendingDiff> confirmed;
    const auto& pending = table->pending;
    for (size_t from = 0; from < pending.size(); from += kBatch) {
      const std::string where = KeysCondition(table->info, pending, from, std::min(pending.size(), from + kBatch));
      auto source_rows = RowHashes(round.source(0), table->info, where);
      if (!source_rows) return cutover::Fail(source_rows.error().OnServer("source"));
      auto target_rows = RowHashes(round.target(0), table->info, where);
      if (!target_rows) return cutover::Fail(target_rows.error().OnServer("target"));
      for (PendingDiff& d : Diff(*source_rows, *target_rows)) confirmed.push_back(std::move(d));
    }
    TableVerdict& v = table->verdict;
    v.differing_rows += confirmed.size();
    if (v.differing_rows > 0) v.verdict = Verdict::kDifferent;
    for (size_t i = 0; i < confirmed.size() && v.diffs.size() < options_.max_keys_per_table; ++i) {
      v.diffs.push_back({DisplayKey(table->info, confirmed[i].key), confirmed[i].kind});
    }
  }
  return round.End();
}

Result<VerifyReport> VerifyRun::Run() {
  const auto start = Clock::now();
  auto source = db::Connection::Connect(options_.source);
  if (!source) return cutover::Fail(source.error().WithContext("cannot log in to the source ([source] in the config)"));
  auto target = db::Connection::Connect(options_.target);
  if (!target) return cutover::Fail(target.error().WithContext("cannot log in to the target ([target] in the config)"));
  observer_.Step("pre-checks");
  if (Status st = Precheck(*source, *target); !st) return cutover::Fail(st.error());
  if (Status st = PlanTables(*source, *target); !st) return cutover::Fail(st.error());
  observer_.Step(fmt::format("comparing {} table(s) with {} session(s) per server", tables_.size(), options_.threads));
  // A keyless table is checksummed whole; a keyed chunk is sized to take
  // about chunk_time, which the base read timeout covers.
  uint64_t biggest_keyless = 0;
  for (const auto& t : tables_) {
    if (t->verdict.keyless) biggest_keyless = std::max(biggest_keyless, t->info.data_bytes);
  }
  auto round = AlignedRound::Open(options_.source, options_.target, options_.threads, biggest_keyless);
  if (!round) return cutover::Fail(round.error());
  while (!AllWalked()) {
    if (Status st = CompareRound(*round, *target); !st) return cutover::Fail(st.error());
  }
  bool any_pending = std::any_of(tables_.begin(), tables_.end(), [](const auto& t) { return !t->pending.empty(); });
  if (any_pending) {
    observer_.Step("rechecking the differing rows at a later GTID");
    if (Status st = Recheck(*round); !st) return cutover::Fail(st.error());
  }
  for (auto& t : tables_) report_.tables.push_back(t->verdict);
  for (TableVerdict& v : settled_) report_.tables.push_back(v);
  std::sort(report_.tables.begin(), report_.tables.end(),
            [](const TableVerdict& a, const TableVerdict& b) { return a.table < b.table; });
  report_.total_time = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return report_;
}

}  // namespace

std::string_view DiffKindName(DiffKind kind) {
  switch (kind) {
    case DiffKind::kMissingOnTarget: return "missing on target";
    case DiffKind::kExtraOnTarget: return "extra on target";
    case DiffKind::kChanged: return "changed";
  }
  return "?";
}

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kIdentical: return "identical";
    case Verdict::kDifferent: return "DIFFERENT";
    case Verdict::kMissingOnTarget: return "MISSING ON TARGET";
    case Verdict::kExtraOnTarget: return "EXTRA ON TARGET";
    case Verdict::kColumnsDiffer: return "COLUMNS DIFFER";
  }
  return "?";
}

bool VerifyReport::identical() const {
  return errant_gtids.empty() && std::all_of(tables.begin(), tables.end(), [](const TableVerdict& t) { return t.verdict == Verdict::kIdentical; });
}

Result<VerifyReport> RunVerify(const VerifyOptions& options, VerifyObserver& observer, const std::atomic<bool>& cancel) {
  return VerifyRun(options, observer, cancel).Run();
}

}  // namespace cutover::verify
