#include "replication/replica.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

namespace cutover::replication {
namespace {

std::string Field(const db::QueryResult& r, std::string_view name) {
  for (size_t i = 0; i < r.columns.size(); ++i) {
    if (r.columns[i] == name) return r.rows.front()[i].value_or("");
  }
  return "";
}

}  // namespace

std::string ReplicaStatus::Describe() const {
  if (!configured) return "not a replica (SHOW SLAVE STATUS is empty)";
  std::string from = fmt::format("{}:{}", source_host, source_port);
  if (running()) {
    return fmt::format("replicating from {}, {} s behind, GTID mode {}", from,
                       seconds_behind ? std::to_string(*seconds_behind) : "?", using_gtid);
  }
  std::string out = fmt::format("replication from {} is not running (IO thread: {}, SQL thread: {})", from,
                                io_running, sql_running);
  if (!last_io_error.empty()) out += "; IO error: " + last_io_error;
  if (!last_sql_error.empty()) out += "; SQL error: " + last_sql_error;
  return out;
}

Result<ReplicaStatus> ReadReplicaStatus(db::Connection& replica) {
  auto r = replica.Query("SHOW SLAVE STATUS");
  if (!r) return Fail(r.error());
  ReplicaStatus s;
  if (r->rows.empty()) return s;
  s.configured = true;
  s.source_host = Field(*r, "Master_Host");
  s.source_port = static_cast<uint16_t>(std::strtoul(Field(*r, "Master_Port").c_str(), nullptr, 10));
  s.io_running = Field(*r, "Slave_IO_Running");
  s.sql_running = Field(*r, "Slave_SQL_Running");
  std::string behind = Field(*r, "Seconds_Behind_Master");
  if (!behind.empty()) s.seconds_behind = std::strtoll(behind.c_str(), nullptr, 10);
  s.last_io_error = Field(*r, "Last_IO_Error");
  s.last_sql_error = Field(*r, "Last_SQL_Error");
  s.using_gtid = Field(*r, "Using_Gtid");
  s.gtid_io_pos = Field(*r, "Gtid_IO_Pos");
  return s;
}

Result<std::string> ReadBinlogGtid(db::Connection& server) { return db::ReadGlobal(server, "gtid_binlog_pos"); }
Result<std::string> ReadAppliedGtid(db::Connection& replica) { return db::ReadGlobal(replica, "gtid_slave_pos"); }

Result<std::vector<Gtid>> ErrantGtids(db::Connection& server, db::Connection& other) {
  auto server_state = db::ReadGlobal(server, "gtid_binlog_state");
  if (!server_state) return Fail(server_state.error());
  auto other_state = db::ReadGlobal(other, "gtid_binlog_state");
  if (!other_state) return Fail(other_state.error());
  auto mine = ParseGtidList(*server_state);
  if (!mine) return Fail(mine.error().WithContext(server.where() + " gtid_binlog_state"));
  auto theirs = ParseGtidList(*other_state);
  if (!theirs) return Fail(theirs.error().WithContext(other.where() + " gtid_binlog_state"));
  return UncoveredGtids(*mine, *theirs);
}

Error ErrantGtidsError(const db::Connection& server, const db::Connection& other, const std::vector<Gtid>& errant) {
  return Error::Precondition(fmt::format(
      "{} holds transaction(s) that {} never had: GTID {} (errant: written on {} directly, not replicated). If it "
      "took over, the other server could not follow it (error 1236). Inspect them with mariadb-binlog; if they are "
      "not needed run RESET MASTER on {} (only when nothing replicates from it), otherwise apply the same changes on "
      "{} first and then RESET MASTER on {}; then retry",
      server.where(), other.where(), FormatGtidList(errant), server.where(), server.where(), other.where(),
      server.where()));
}

Result<bool> HasApplied(db::Connection& server, const std::string& gtid) {
  auto r = server.QueryValue(fmt::format("SELECT MASTER_GTID_WAIT({}, 0)", server.Quote(gtid)));
  if (!r) return Fail(r.error());
  return *r == "0";
}

Status StartReplica(db::Connection& replica, const SourceAddress& source, const std::string& gtid,
                    int parallel_threads) {
  if (parallel_threads > 0) {
    if (Status st = replica.Execute(fmt::format("SET GLOBAL slave_parallel_threads = {}", parallel_threads)); !st) {
      return st;
    }
  }
  const std::string change = fmt::format(
      "CHANGE MASTER TO MASTER_HOST={}, MASTER_PORT={}, MASTER_USER={}, MASTER_PASSWORD={}, "
      "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
      replica.Quote(source.host), source.port, replica.Quote(source.user), replica.Quote(source.password));
  if (Status st = replica.Execute(fmt::format("SET GLOBAL gtid_slave_pos = {}", replica.Quote(gtid))); !st) {
    return Fail(st.error().WithContext("setting up replication"));
  }
  Status changed = replica.Execute(change);
  constexpr uint16_t kErrMasterInfo = 1201;  // "Could not initialize master info structure"
  if (!changed && changed.error().server_errno() == kErrMasterInfo) {
    // Replica metadata half-written by a server killed mid-change: start afresh.
    if (Status st = replica.Execute("RESET SLAVE ALL"); !st) return Fail(st.error().WithContext("setting up replication"));
    changed = replica.Execute(change);
  }
  // Never echo the statement: it carries the replication password.
  if (!changed) return Fail(changed.error().WithContext("setting up replication"));
  if (Status st = replica.Execute("START SLAVE"); !st) return Fail(st.error().WithContext("setting up replication"));
  return {};
}

Status StopAndForgetReplica(db::Connection& replica) {
  auto status = ReadReplicaStatus(replica);
  if (!status) return Fail(status.error());
  if (status->configured) {
    if (Status st = replica.Execute("STOP SLAVE"); !st) return st;
  }
  // Always, even when SHOW SLAVE STATUS is empty: a server killed inside
  // CHANGE MASTER keeps a master.info it cannot read, which hides it from
  // SHOW SLAVE STATUS and makes the next CHANGE MASTER fail with 1201. RESET
  // SLAVE ALL removes it; on a server that never replicated it does nothing.
  return replica.Execute("RESET SLAVE ALL");
}

Status WaitForGtid(db::Connection& replica, const std::string& gtid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto status = ReadReplicaStatus(replica);
    if (!status) return Fail(status.error());
    if (!status->configured || status->sql_running != "Yes" || !status->last_io_error.empty()) {
      return Fail(Error::Precondition(fmt::format("{}: {}", replica.where(), status->Describe())));
    }
    // Wait in short slices so that a replication failure is noticed quickly.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto slice = std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(500));
    auto r = replica.QueryValue(
        fmt::format("SELECT MASTER_GTID_WAIT({}, {:.3f})", replica.Quote(gtid), slice.count() / 1000.0));
    if (!r) return Fail(r.error());
    if (*r == "0") return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      return Fail(Error::Timeout(fmt::format("{}: has not applied GTID {} after {} ms", replica.where(), gtid,
                                             timeout.count())));
    }
  }
}

Status FollowUntilCaughtUp(db::Connection& source, db::Connection& replica, std::chrono::seconds timeout,
                           const std::atomic<bool>& cancel, const std::function<void(const LagSample&)>& on_sample) {
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    if (cancel) return Fail(Error::Cancelled("interrupted while waiting for replication to catch up"));
    LagSample sample;
    auto source_gtid = ReadBinlogGtid(source);
    if (!source_gtid) return Fail(source_gtid.error());
    sample.source_gtid = *source_gtid;
    Status waited = WaitForGtid(replica, sample.source_gtid, std::chrono::milliseconds(1000));
    if (!waited && waited.error().code() != ErrorCode::kTimeout) return waited;
    sample.caught_up = waited.has_value();
    auto applied = ReadAppliedGtid(replica);
    if (!applied) return Fail(applied.error());
    sample.applied_gtid = *applied;
    auto status = ReadReplicaStatus(replica);
    if (!status) return Fail(status.error());
    sample.seconds_behind = status->seconds_behind;
    on_sample(sample);
    if (sample.caught_up) return {};
    if (timeout.count() > 0 && std::chrono::steady_clock::now() - start > timeout) {
      return Fail(Error::Timeout(fmt::format("{}: still behind the source after {} s ({})", replica.where(),
                                             timeout.count(), status->Describe())));
    }
  }
}

}  // namespace cutover::replication
