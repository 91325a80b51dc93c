#include "switchover/switchover.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "replication/replica.h"
#include "switchover/move.h"

namespace cutover::switchover {
namespace {

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

Result<MoveState> LoadIdle(const SwitchoverOptions& options) {
  auto state = LoadMoveState(options.state_file);
  if (!state) return Fail(state.error());
  if (state->in_progress) {
    return Fail(Error::Precondition(fmt::format(
        "a move from {} to {} started {} stopped at step {}; run cutover switchover --resume to finish it or "
        "--abort to undo it (state file {})",
        state->from, state->to, state->started_at, StepName(state->step), options.state_file)));
  }
  return state;
}

}  // namespace

Result<SwitchoverReport> RunSwitchover(const SwitchoverOptions& options, std::string_view to_role,
                                       SwitchoverObserver& observer) {
  auto lock = MoveLock::Acquire(options.state_file);
  if (!lock) return Fail(lock.error());
  auto state = LoadIdle(options);
  if (!state) return Fail(state.error());
  const std::string from_role = to_role == "target" ? "source" : "target";
  if (state->primary == to_role) {
    return Fail(Error::Precondition(fmt::format("the {} is already the primary (state file {}){}", to_role,
                                                options.state_file,
                                                to_role == "target" ? "; to move back run cutover rollback" : "")));
  }
  if (state->old_released) {
    return Fail(Error::Precondition(fmt::format(
        "cutover finish released the {}; it no longer follows the primary, so it cannot take over", to_role)));
  }
  state->in_progress = true;
  state->from = from_role;
  state->to = std::string(to_role);
  state->step = Step::kPrechecked;
  state->started_at = UtcNow();
  state->final_gtid.clear();
  state->timeline.clear();
  Move move(options, observer, *state);
  if (Status st = move.Connect(); !st) return Fail(st.error());
  if (Status st = move.Precheck(); !st) return Fail(st.error());  // nothing saved, nothing changed
  if (Status st = move.PrepareProxy(); !st) return Fail(st.error());
  for (int attempt = 1;; ++attempt) {
    if (Status st = move.CatchUpGate(); !st) {  // nothing saved, nothing changed
      move.UnprepareProxy();
      return Fail(st.error());
    }
    auto report = move.Forward(Step::kPause);
    if (report) return report;
    if (!move.over_budget() || attempt >= std::max(1, options.attempts)) {
      if (!move.Committed()) move.UnprepareProxy();
      if (!move.over_budget()) return report;
      return Fail(Error(report.error().code(),
                        fmt::format("gave up after {} attempt(s): {}", attempt, report.error().message())));
    }
    observer.Step("retry", fmt::format("attempt {} of {}: the target did not catch up within the pause budget; clients "
                                       "resumed on the {}; trying again",
                                       attempt + 1, options.attempts, from_role));
    move.Restart();
  }
}

Result<SwitchoverReport> ResumeSwitchover(const SwitchoverOptions& options, SwitchoverObserver& observer) {
  auto lock = MoveLock::Acquire(options.state_file);
  if (!lock) return Fail(lock.error());
  auto state = LoadMoveState(options.state_file);
  if (!state) return Fail(state.error());
  if (!state->in_progress) return Fail(Error::Precondition("no move is in progress; nothing to resume"));
  observer.Step("resume", fmt::format("continuing the move from {} to {} at step {}", state->from, state->to,
                                      StepName(state->step)));
  Move move(options, observer, *state);
  if (Status st = move.Connect(); !st) return Fail(st.error());
  // The pause and the fence died with the old orchestrator's connections: take
  // them again. Before the commit point the move is redone from the pause;
  // after it, the promotion (idempotent) is repeated under a fresh fence.
  return move.Forward(Step::kPause);
}

Status AbortSwitchover(const SwitchoverOptions& options, SwitchoverObserver& observer) {
  auto lock = MoveLock::Acquire(options.state_file);
  if (!lock) return Fail(lock.error());
  auto state = LoadMoveState(options.state_file);
  if (!state) return Fail(state.error());
  if (!state->in_progress) return Fail(Error::Precondition("no move is in progress; nothing to abort"));
  Move move(options, observer, *state);
  if (Status st = move.Connect(); !st) return Fail(st.error());
  auto writable = move.TargetWritable();
  if (!writable) return Fail(writable.error());
  if (move.Committed() || *writable) {
    return Fail(Error::Precondition(fmt::format(
        "the move reached its commit point ({} is writable); it can only go forward: run cutover switchover --resume, "
        "then cutover rollback if you want the {} back",
        state->to, state->from)));
  }
  std::vector<std::string> problems = move.Undo();
  if (problems.empty()) return {};
  return Fail(move.Explain(Error::Cancelled("aborted on request"), problems));
}

Status FinishMove(const SwitchoverOptions& options, SwitchoverObserver& observer) {
  auto lock = MoveLock::Acquire(options.state_file);
  if (!lock) return Fail(lock.error());
  auto state = LoadIdle(options);
  if (!state) return Fail(state.error());
  if (state->old_released) return Fail(Error::Precondition("cutover finish already ran"));
  if (state->primary != "target") {
    return Fail(Error::Precondition("the source is the primary: no move to finish (run cutover switchover first)"));
  }
  const ServerRole& old = options.source;
  auto conn = ConnectRole(old);
  if (!conn) return Fail(conn.error());
  if (Status st = replication::StopAndForgetReplica(*conn); !st) return st;
  state->old_released = true;
  if (Status st = SaveMoveState(options.state_file, *state); !st) return st;
  observer.Step("finish", fmt::format("{} {} no longer follows the primary; it stays read-only and can be retired",
                                      old.role, conn->where()));
  return {};
}

}  // namespace cutover::switchover
