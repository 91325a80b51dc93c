#include "cli/move_guardian.h"

#include <fmt/format.h>

#include "switchover/abandoned_move.h"

namespace cutover::cli {
namespace {

class ConfigMoveGuardian : public proxy::MoveGuardian {
 public:
  ConfigMoveGuardian(ServerConfig source, ServerConfig target) : servers_{std::move(source), std::move(target)} {}

  Result<proxy::MoveOutcome> Finish(const proxy::MoveLease& lease) override {
    auto from = Find(lease.from);
    if (!from) return Fail(from.error());
    auto to = Find(lease.to);
    if (!to) return Fail(to.error());
    switchover::AbandonedMove move{*from, *to, lease.from_was_read_only, lease.from_connection_ids,
                                   lease.to_connection_ids};
    auto outcome = switchover::FinishAbandonedMove(move);
    if (!outcome) return Fail(outcome.error());
    return *outcome == switchover::AbandonedMoveOutcome::kCompleted ? proxy::MoveOutcome::kCompleted
                                                                    : proxy::MoveOutcome::kUndone;
  }

 private:
  Result<db::Endpoint> Find(const proxy::HostPort& address) const {
    for (const ServerConfig& s : servers_) {
      if (s.host == address.host && s.port == address.port) return s.ToEndpoint();
    }
    return Fail(Error::Precondition(
        fmt::format("the move names {}, which is neither [source] nor [target] of this proxy's config", address.ToString())));
  }

  ServerConfig servers_[2];
};

}  // namespace

std::shared_ptr<proxy::MoveGuardian> MakeMoveGuardian(const Config& config) {
  if (!config.source || !config.target) return nullptr;
  return std::make_shared<ConfigMoveGuardian>(*config.source, *config.target);
}

}  // namespace cutover::cli
