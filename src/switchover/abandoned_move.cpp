#include "switchover/abandoned_move.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "db/connection.h"

namespace cutover::switchover {

Status EndConnections(db::Connection& conn, const std::vector<uint64_t>& ids) {
  if (ids.empty()) return {};
  for (uint64_t id : ids) {
    constexpr uint16_t kErrNoSuchThread = 1094;
    Status st = conn.Execute(fmt::format("KILL CONNECTION {}", id));
    if (!st && st.error().server_errno() != kErrNoSuchThread) return st;
  }
  const std::string left_sql = fmt::format(
      "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID IN ({})", fmt::join(ids, ","));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto left = conn.QueryValue(left_sql);
    if (!left) return Fail(left.error());
    if (left->value_or("0") == "0") return {};
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail(Error::Timeout(fmt::format("{}: the switchover's connections {} were killed but have not ended "
                                             "after 10 s",
                                             conn.where(), fmt::join(ids, ", "))));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<AbandonedMoveOutcome> FinishAbandonedMove(const AbandonedMove& move) {
  auto to = db::Connection::Connect(move.to);
  if (!to) {
    return Fail(to.error().WithContext(
        "ending an abandoned move: the new primary cannot be reached, so whether the move passed its commit point is "
        "unknown"));
  }
  if (Status st = EndConnections(*to, move.to_connection_ids); !st) return Fail(st.error());
  auto read_only = db::ReadGlobal(*to, "read_only");
  if (!read_only) return Fail(read_only.error());
  auto from = db::Connection::Connect(move.from);
  if (*read_only == "0") {
    // Past the commit point. Ending the switchover's sessions on the old
    // primary lifts its fence there; read_only stays on. Best effort: the old
    // primary may be the reason the switchover stopped.
    if (from) (void)EndConnections(*from, move.from_connection_ids);
    return AbandonedMoveOutcome::kCompleted;
  }
  if (!from) return Fail(from.error().WithContext("ending an abandoned move: cannot undo the fence"));
  if (Status st = EndConnections(*from, move.from_connection_ids); !st) return Fail(st.error());
  if (Status st = from->Execute(fmt::format("SET GLOBAL read_only = {}", move.from_was_read_only ? "ON" : "OFF"));
      !st) {
    return Fail(st.error().WithContext("ending an abandoned move: lifting the fence"));
  }
  return AbandonedMoveOutcome::kUndone;
}

}  // namespace cutover::switchover
