// `cutover clone` and `cutover replication status`.
// Thread-safety: called once from main.
#pragma once

#include <string>

#include "clone/clone.h"

namespace cutover::cli {

struct CloneCommandOptions {
  std::string config_path;
  clone::CloneOptions clone;  // source, target and replication come from the config
  bool json = false;
  int catchup_timeout_s = 0;
};

// Exit status: 0 the target replicates (and has caught up unless --no-wait), 2 an error.
int RunCloneCommand(CloneCommandOptions options);

struct ReplicationStatusOptions {
  std::string config_path;
  bool json = false;
};

// Prints the target's replication state and the GTID positions of both
// servers. Exit status: 0 replicating, 1 not replicating or broken, 2 an error.
int RunReplicationStatus(const ReplicationStatusOptions& options);

}  // namespace cutover::cli
