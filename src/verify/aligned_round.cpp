#include "verify/aligned_round.h"

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "replication/replica.h"

namespace cutover::verify {

Result<AlignedRound> AlignedRound::Open(const db::Endpoint& source, const db::Endpoint& target, int sessions,
                                        uint64_t bytes_before_answer) {
  auto source_sessions = replication::OpenSnapshotSessions(source, sessions, bytes_before_answer);
  if (!source_sessions) return Fail(source_sessions.error().OnServer("source"));
  auto target_sessions = replication::OpenSnapshotSessions(target, sessions, bytes_before_answer);
  if (!target_sessions) return Fail(target_sessions.error().OnServer("target"));
  auto control = db::Connection::Connect(target);
  if (!control) return Fail(control.error().OnServer("target"));
  replication::Snapshot snapshot;
  snapshot.connections = std::move(*source_sessions);
  return AlignedRound(std::move(snapshot), std::move(*target_sessions), std::move(*control));
}

Status AlignedRound::WaitStoppedAt(const std::string& gtid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto status = replication::ReadReplicaStatus(control_);
    if (!status) return Fail(status.error());
    if (!status->last_sql_error.empty()) {
      return Fail(Error::Precondition(fmt::format("target {}: {}", control_.where(), status->Describe())));
    }
    if (status->sql_running == "No") {
      auto reached = replication::HasApplied(control_, gtid);
      if (!reached) return Fail(reached.error());
      if (*reached) return {};
      return Fail(Error::Precondition(fmt::format(
          "target {}: replication stopped before GTID {} ({})", control_.where(), gtid, status->Describe())));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail(Error::Timeout(fmt::format(
          "target {}: did not reach the source's GTID {} within {} s; it is too far behind ({})", control_.where(),
          gtid, timeout.count(), status->Describe())));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Status AlignedRound::Begin(std::chrono::seconds align_timeout) {
  const auto start = std::chrono::steady_clock::now();
  if (Status st = control_.Execute("STOP SLAVE"); !st) return Fail(st.error().WithContext("target: STOP SLAVE"));
  auto ms = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(); };
  spdlog::debug("round: replication stopped after {:.1f} ms", ms());
  Status aligned = replication::LineUpSnapshots(source_, "source " + source_.connections.front().where());
  // The target stopped at or before G (it cannot be ahead of its source). If
  // it is at G already, it is aligned; otherwise let it apply exactly up to G.
  bool at_gtid = false;
  if (aligned) {
    auto reached = replication::HasApplied(control_, source_.gtid);
    if (reached) at_gtid = *reached;
    else aligned = cutover::Fail(reached.error());
  }
  spdlog::debug("round: source snapshot at {} after {:.1f} ms", source_.gtid, ms());
  if (aligned && !at_gtid) {
    aligned = control_.Execute(fmt::format("START SLAVE UNTIL master_gtid_pos = {}", control_.Quote(source_.gtid)));
    if (aligned) aligned = WaitStoppedAt(source_.gtid, align_timeout);
  }
  for (size_t i = 0; aligned && i < target_.size(); ++i) {
    aligned = target_[i].Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
  }
  spdlog::debug("round: target aligned after {:.1f} ms", ms());
  // Replication runs again whatever happened above. START SLAVE starts
  // whichever thread is stopped (UNTIL stops the SQL thread; the IO thread may run).
  Status restarted = control_.Execute("START SLAVE");
  constexpr int kErrSlaveRunning = 1254;
  if (!restarted && restarted.error().server_errno() == kErrSlaveRunning) restarted = {};
  paused_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (!aligned) return aligned;
  return restarted;
}

Status AlignedRound::End() {
  for (auto* sessions : {&source_.connections, &target_}) {
    for (db::Connection& c : *sessions) {
      if (Status st = c.Execute("ROLLBACK"); !st) return st;
    }
  }
  return {};
}

}  // namespace cutover::verify
