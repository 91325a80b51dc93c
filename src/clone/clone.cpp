#include "clone/clone.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "clone/chunk_copier.h"
#include "clone/chunk_plan.h"
#include "clone/clone_marker.h"
#include "clone/prechecks.h"
#include "clone/schema_copy.h"
#include "clone/user_copy.h"
#include "replication/replica.h"
#include "replication/snapshot.h"

namespace cutover::clone {
namespace {

using Clock = std::chrono::steady_clock;

// Big enough to amortize a round trip; an INSERT must also fit any max_allowed_packet.
constexpr uint64_t kLoadDataBatchBytes = 4 << 20;
constexpr uint64_t kInsertBatchBytes = 1 << 20;

std::chrono::milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

Result<db::Connection> ConnectAs(const db::Endpoint& endpoint, std::string_view role) {
  auto conn = db::Connection::Connect(endpoint);
  if (!conn) return Fail(conn.error().WithContext(fmt::format("cannot log in to the {} ([{}] in the config)", role, role)));
  return conn;
}

// The data-copy phase: worker threads take chunks from one shared list, each
// with its own snapshot session on the source and session on the target.
class ParallelCopy {
 public:
  ParallelCopy(const CloneOptions& options, const std::vector<db::TableInfo>& tables, const SchemaCopy& schema,
               std::vector<Chunk> chunks, const std::atomic<bool>& cancel)
      : options_(options), tables_(tables), schema_(schema), chunks_(std::move(chunks)), cancel_(cancel) {
    for (const db::TableInfo& t : tables_) {
      TableProgress& p = progress_.emplace_back();
      p.name = t.DisplayName();
      p.estimated_rows = t.estimated_rows;
      // The target says nothing while it takes in a batch or builds a
      // table's deferred indexes, which reads the whole table.
      target_bytes_before_answer_ = std::max(target_bytes_before_answer_, t.data_bytes);
    }
    for (const Chunk& c : chunks_) ++progress_[c.table].chunks;
  }

  const std::deque<TableProgress>& progress() const { return progress_; }

  // REQUIRES: one snapshot session per worker.
  Status Run(std::vector<db::Connection>& snapshot_sessions) {
    {
      std::vector<std::jthread> workers;
      for (db::Connection& session : snapshot_sessions) {
        workers.emplace_back([this, &session] { Record(Work(session)); });
      }
    }
    if (error_) return Fail(*error_);
    return {};
  }

 private:
  Status Work(db::Connection& source) {
    auto target = ChunkCopier::OpenTargetSession(options_.target, target_bytes_before_answer_);
    if (!target) return Fail(target.error());
    auto method = ChunkCopier::ChooseWriteMethod(*target);
    if (!method) return Fail(method.error());
    ChunkCopier copier(source, *target, *method,
                       *method == WriteMethod::kLoadData ? kLoadDataBatchBytes : kInsertBatchBytes);
    while (!failed_) {
      const size_t i = next_++;
      if (i >= chunks_.size()) break;
      const Chunk& chunk = chunks_[i];
      const db::TableInfo& table = tables_[chunk.table];
      TableProgress& p = progress_[chunk.table];
      if (Status st = copier.Copy(table, chunk, failed_, p.rows, p.bytes); !st) return st;
      if (++p.chunks_done == p.chunks) {
        if (Status st = schema_.AddDeferredIndexes(*target, table); !st) return st;
        p.done = true;
      }
    }
    // Ends the snapshot transaction; only reads happened in it.
    return source.Execute("ROLLBACK");
  }

  void Record(Status st) {
    if (st) return;
    std::lock_guard lock(mu_);
    if (!error_ || error_->code() == ErrorCode::kCancelled) error_ = st.error();
    failed_ = true;
  }

  const CloneOptions& options_;
  const std::vector<db::TableInfo>& tables_;
  const SchemaCopy& schema_;
  const std::vector<Chunk> chunks_;
  const std::atomic<bool>& cancel_;
  std::deque<TableProgress> progress_;
  uint64_t target_bytes_before_answer_ = kLoadDataBatchBytes;  // sizes the target sessions' read timeout
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};  // set on the first error or on cancel: workers stop
  std::mutex mu_;
  std::optional<Error> error_;  // the first real error (guarded by mu_)

 public:
  // Lets a watcher thread turn the caller's cancel flag into failed_.
  void PollCancel() {
    if (cancel_ && !failed_) Record(Fail(Error::Cancelled("interrupted during the copy")));
  }
};

// Puts the biggest tables first so that the last chunks to finish are small.
std::vector<Chunk> OrderedChunks(db::Connection& snapshot, const std::vector<db::TableInfo>& tables,
                                 uint64_t chunk_rows, Status& status) {
  std::vector<size_t> order(tables.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tables[a].data_bytes > tables[b].data_bytes; });
  std::vector<Chunk> chunks;
  for (size_t i : order) {
    status = PlanChunks(snapshot, tables[i], i, chunk_rows, chunks);
    if (!status) return {};
  }
  return chunks;
}

Status Adopt(db::Connection& source, db::Connection& target, const CloneOptions& options, CloneObserver& observer) {
  auto status = replication::ReadReplicaStatus(target);
  if (!status) return Fail(status.error());
  if (status->source_port != options.replication.port || status->source_host != options.replication.host) {
    return Fail(Error::Precondition(fmt::format(
        "target {} replicates from {}:{}, not from the source {}:{}; --adopt only accepts a replica of the source",
        target.where(), status->source_host, status->source_port, options.replication.host,
        options.replication.port)));
  }
  if (!status->running()) {
    return Fail(Error::Precondition(fmt::format("target {}: {}; fix replication, then rerun with --adopt",
                                                target.where(), status->Describe())));
  }
  if (status->using_gtid == "No") {
    observer.Warning(fmt::format(
        "target {} replicates by file and position; switchover needs GTID: run STOP SLAVE; CHANGE MASTER TO "
        "MASTER_USE_GTID=slave_pos; START SLAVE on it",
        target.where()));
  }
  // A replica restarted after the clone comes back with the read_only of its
  // configuration; until the switchover only replication may write to it.
  auto read_only = db::ReadGlobal(target, "read_only");
  if (!read_only) return Fail(read_only.error());
  if (*read_only != "1") {
    observer.Warning(fmt::format("target {} was writable; setting read_only = ON", target.where()));
    if (Status st = target.Execute("SET GLOBAL read_only = ON"); !st) return st;
  }
  observer.Step(fmt::format("adopted target {}: {}", target.where(), status->Describe()));
  (void)source;
  return {};
}

}  // namespace

// The steps in order; each returns early on error. Split by phase below.
class CloneRun {
 public:
  CloneRun(const CloneOptions& options, CloneObserver& observer, const std::atomic<bool>& cancel)
      : options_(options), observer_(observer), cancel_(cancel) {}

  Result<CloneReport> Run() {
    const auto start = Clock::now();
    auto source = ConnectAs(options_.source, "source");
    if (!source) return Fail(source.error());
    auto target = ConnectAs(options_.target, "target");
    if (!target) return Fail(target.error());
    if (Status st = PrepareTarget(*target); !st) return Fail(st.error());
    observer_.Step("pre-checks");
    auto checks = RunPrechecks(*source, *target, options_);
    if (!checks) return Fail(checks.error());
    for (const std::string& w : checks->warnings) observer_.Warning(w);
    if (options_.adopt) {
      if (Status st = Adopt(*source, *target, options_, observer_); !st) return Fail(st.error());
      report_.adopted = true;
    } else {
      if (Status st = Copy(*source, *target, *checks); !st) return Fail(st.error());
    }
    if (options_.wait) {
      observer_.Step("following replication until the target has caught up");
      Status st = replication::FollowUntilCaughtUp(*source, *target, options_.catchup_timeout, cancel_,
                                                   [&](const replication::LagSample& s) { observer_.Lag(s); });
      // The copy is done and kept: only the wait failed. A plain rerun would
      // refuse the replica, so say how to wait again without copying again.
      if (!st) {
        return Fail(st.error().WithSuffix(
            "; the copy itself had finished and replication from the source was set up: run cutover clone --adopt "
            "to wait for the target to catch up again (nothing is copied again)"));
      }
    }
    report_.total_time = Since(start);
    return report_;
  }

 private:
  // Session setup, and the cleanup of a clone that was interrupted before.
  Status PrepareTarget(db::Connection& target) {
    if (Status st = target.Execute("SET SESSION sql_log_bin = 0"); !st) {
      return Fail(st.error().WithContext(fmt::format(
          "target {}: the target user must be able to write without binary logging (SUPER or BINLOG ADMIN)",
          target.where())));
    }
    auto interrupted = FindInterruptedClone(target);
    if (!interrupted) return Fail(interrupted.error());
    if (!*interrupted) return {};
    observer_.Step(fmt::format("target {} holds an interrupted clone (started {} from {}); dropping the {} schema(s) "
                               "it created and starting over",
                               target.where(), (*interrupted)->started, (*interrupted)->source,
                               (*interrupted)->schemas.size()));
    return UndoInterruptedClone(target, **interrupted);
  }

  // The target's binary log must not hold transactions the source never had
  // (an account created there by hand, say): once it is the primary, the old
  // primary could not follow it (error 1236). An empty target that replicates
  // from no one has nothing in its binary log that anyone needs: reset it.
  Status ClearOwnTransactions(db::Connection& source, db::Connection& target) {
    auto errant = replication::ErrantGtids(target, source);
    if (!errant) return Fail(errant.error());
    if (errant->empty()) return {};
    observer_.Warning(fmt::format(
        "target {}: its binary log holds {} transaction(s) of its own that the source never had (GTID {}); RESET "
        "MASTER clears them from its binary log (their changes stay)",
        target.where(), errant->size(), replication::FormatGtidList(*errant)));
    if (Status st = target.Execute("RESET MASTER"); !st) {
      return Fail(st.error().WithContext(fmt::format(
          "target {}: clearing its own transactions from its binary log (RESET MASTER needs RELOAD)", target.where())));
    }
    return {};
  }

  Status Copy(db::Connection& source, db::Connection& target, const PrecheckReport& checks) {
    if (Status st = ClearOwnTransactions(source, target); !st) return st;
    if (Status st = MarkCloneStarted(target, options_.source.ToString()); !st) return st;
    auto schema = SchemaCopy::Read(source, checks.schemas, checks.tables, options_.defer_indexes);
    if (!schema) return Fail(schema.error());
    observer_.Step(fmt::format("opening a consistent snapshot in {} sessions", options_.threads));
    auto snapshot = replication::OpenSnapshot(options_.source, options_.threads);
    if (!snapshot) return Fail(snapshot.error());
    report_.gtid = snapshot->gtid;
    report_.snapshot_attempts = snapshot->attempts;
    observer_.Step(fmt::format("snapshot at GTID '{}' ({} {}), no lock taken, lined up in {} attempt(s)",
                               snapshot->gtid, snapshot->binlog_file, snapshot->binlog_position, snapshot->attempts));
    if (Status st = CreateSchema(target, *schema, checks); !st) return st;
    if (options_.with_users) {
      auto users = CopyUsers(source, target);
      if (!users) return Fail(users.error());
      observer_.Step(fmt::format("copied {} account(s)", users->copied.size()));
      for (const std::string& s : users->skipped) observer_.Warning("account not copied: " + s);
    }
    if (Status st = CopyData(*snapshot, checks.tables, *schema); !st) return st;
    observer_.Step("creating triggers and events");
    if (Status st = schema->CreateAfterData(target); !st) return st;
    // The marker goes before replication starts, because dropping it is DDL:
    // a target that crashes inside the drop may write the drop to its binary
    // log during recovery, as a transaction of its own. With the marker gone
    // too early a rerun is refused as a non-empty target and --force starts
    // over (clearing that transaction); with replication already running the
    // transaction would break it (out-of-order GTID) on a target a rerun
    // cannot tell from a finished one.
    if (Status st = MarkCloneComplete(target); !st) return st;
    observer_.Step(fmt::format("starting replication from GTID '{}'{}", snapshot->gtid,
                               options_.replica_threads > 0
                                   ? fmt::format(" with slave_parallel_threads = {}", options_.replica_threads)
                                   : ""));
    if (Status st = replication::StartReplica(target, options_.replication, snapshot->gtid, options_.replica_threads);
        !st) {
      return st;
    }
    // Until the switchover, only replication may write to the copy.
    return target.Execute("SET GLOBAL read_only = ON");
  }

  Status CreateSchema(db::Connection& target, const SchemaCopy& schema, const PrecheckReport& checks) {
    // The source's schemas that the target already has: empty ones (a fresh
    // server's `test`) hold nothing to lose; others only go with --force.
    // The session does not binlog, so the drop is no transaction of the target's.
    const auto has = [](const std::vector<std::string>& list, const std::string& s) {
      return std::find(list.begin(), list.end(), s) != list.end();
    };
    for (const std::string& s : checks.schemas) {
      if (!has(checks.target_schemas, s)) continue;
      if (!has(checks.empty_target_schemas, s)) {
        observer_.Warning(fmt::format("--force: dropping schema {} on the target", s));
      }
      if (Status st = target.Execute("DROP DATABASE " + db::QuoteIdentifier(s)); !st) return st;
    }
    observer_.Step(fmt::format("creating {} schema(s), {} table(s) and their objects on the target",
                               checks.schemas.size(), checks.tables.size()));
    return schema.CreateBeforeData(target, [&](const std::string& s) { return RecordCreatedSchema(target, s); });
  }

  Status CopyData(replication::Snapshot& snapshot, const std::vector<db::TableInfo>& tables, const SchemaCopy& schema) {
    const auto start = Clock::now();
    Status planned;
    std::vector<Chunk> chunks = OrderedChunks(snapshot.connections.front(), tables, options_.chunk_rows, planned);
    if (!planned) return planned;
    observer_.Step(fmt::format("copying {} table(s) in {} chunk(s) with {} worker(s)", tables.size(), chunks.size(),
                               options_.threads));
    ParallelCopy copy(options_, tables, schema, std::move(chunks), cancel_);
    observer_.CopyStarted(copy.progress());
    std::atomic<bool> finished{false};
    std::jthread watcher([&] {
      while (!finished) {
        copy.PollCancel();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    Status st = copy.Run(snapshot.connections);
    finished = true;
    watcher.join();
    observer_.CopyFinished();
    for (const TableProgress& p : copy.progress()) {
      report_.rows += p.rows;
      report_.bytes += p.bytes;
    }
    report_.tables = tables.size();
    report_.copy_time = Since(start);
    if (!st && st.error().code() == ErrorCode::kCancelled) {
      return Fail(Error::Cancelled(
          "interrupted during the copy; the target is marked incomplete: rerun cutover clone to start over"));
    }
    if (!st) {
      return Fail(st.error().WithContext(
          "the copy failed (the source is untouched; the target is marked incomplete and a rerun starts over)"));
    }
    return st;
  }

  const CloneOptions& options_;
  CloneObserver& observer_;
  const std::atomic<bool>& cancel_;
  CloneReport report_;
};

Result<CloneReport> RunClone(const CloneOptions& options, CloneObserver& observer, const std::atomic<bool>& cancel) {
  return CloneRun(options, observer, cancel).Run();
}

}  // namespace cutover::clone
