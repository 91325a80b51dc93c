// `cutover switchover`, `cutover rollback` and `cutover finish`.
// Thread-safety: called once from main.
#pragma once

#include <string>

namespace cutover::cli {

struct SwitchoverCommandOptions {
  std::string config_path;
  bool resume = false;
  bool abort = false;
  bool kill_open_transactions = false;
  bool close_pinned = false;
  bool json = false;
};

// `to_role` is "target" (switchover) or "source" (rollback).
// Exit status: 0 moved, 2 refused or failed (rolled back unless it says otherwise).
int RunSwitchoverCommand(const SwitchoverCommandOptions& options, const std::string& to_role);
int RunFinishCommand(const SwitchoverCommandOptions& options);

}  // namespace cutover::cli
