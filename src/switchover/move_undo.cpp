#include "switchover/move.h"

#include <fmt/format.h>

#include "replication/replica.h"
#include "switchover/abandoned_move.h"

namespace cutover::switchover {

std::vector<std::string> Move::Undo() {
  std::vector<std::string> problems;
  if (state_.step >= Step::kFence) {
    if (Status st = Unfence(); !st) problems.push_back(st.error().message());
  }
  // Clients resume on the old primary before the new one is put back: a
  // stalled new primary must not hold them.
  if (state_.step >= Step::kPause) {
    if (auto r = CallProxy([&] { return proxy_.Resume(); }); !r) problems.push_back(r.error().message());
  }
  if (state_.step >= Step::kCatchUp) {
    if (Status st = RestoreReplica(); !st) problems.push_back(st.error().message());
  }
  state_.in_progress = false;
  if (Status st = SaveMoveState(options_.state_file, state_); !st) problems.push_back(st.error().message());
  observer_.Step("rolled back", fmt::format("{} is still the primary; clients resumed on it", from_.role));
  return problems;
}

Error Move::Explain(const Error& cause, const std::vector<std::string>& problems) const {
  std::string message = fmt::format("switchover rolled back, {} is still the primary: {}", from_.role, cause.message());
  for (const auto& p : problems) message += "\n  while rolling back: " + p;
  return Error(cause.code(), message);
}

Result<bool> Move::TargetWritable() {
  auto ro = to_conn_->QueryValue("SELECT @@GLOBAL.read_only");
  if (!ro) return Fail(ro.error());
  return *ro == "0";
}

Status Move::Unfence() {
  (void)fence_conn_->Execute("BACKUP STAGE END");  // fails harmlessly when no stage is held
  const std::string sql = fmt::format("SET GLOBAL read_only = {}", state_.from_was_read_only ? "ON" : "OFF");
  Status st = from_conn_->Execute(sql);
  if (st || st.error().code() != ErrorCode::kIo) return st;
  // Lost, or timed out: its last statement (SET GLOBAL read_only = ON) may
  // still be waiting on the server and take effect after this undo. End
  // both sessions first (the fence's stage ends with its session).
  auto fresh = SessionEnding(from_, own_ids_on_from_);
  if (!fresh) return Fail(fresh.error());
  return fresh->Execute(sql);
}

Result<db::Connection> Move::SessionEnding(const ServerRole& role, const std::vector<uint64_t>& lost) {
  auto fresh = ConnectRole(role);
  if (!fresh) return Fail(fresh.error());
  if (Status ended = EndConnections(*fresh, lost); !ended) return Fail(ended.error());
  return fresh;
}

Status Move::RestoreReplica() {
  Status read_only = to_conn_->Execute("SET GLOBAL read_only = ON");
  if (!read_only && read_only.error().code() == ErrorCode::kIo) {
    auto fresh = SessionEnding(to_, {to_conn_->thread_id()});
    if (!fresh) return Fail(fresh.error());
    to_conn_.emplace(std::move(*fresh));
    read_only = to_conn_->Execute("SET GLOBAL read_only = ON");
  }
  if (!read_only) return read_only;
  auto status = replication::ReadReplicaStatus(*to_conn_);
  if (!status) return Fail(status.error());
  if (status->running()) return {};
  replication::SourceAddress from_addr{from_.repl_host, from_.repl_port, options_.repl_user, options_.repl_password};
  auto applied = replication::ReadAppliedGtid(*to_conn_);
  if (!applied) return Fail(applied.error());
  if (Status st = replication::StopAndForgetReplica(*to_conn_); !st) return st;
  return replication::StartReplica(*to_conn_, from_addr, *applied);
}

}  // namespace cutover::switchover
