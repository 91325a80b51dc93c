// The checks `cutover clone` makes before it changes anything. Each failure
// names the server, the problem and the fix.
// Thread-safety: plain functions over the connections passed in.
#pragma once

#include <string>
#include <vector>

#include "clone/clone.h"
#include "common/error.h"
#include "db/catalog.h"
#include "db/connection.h"

namespace cutover::clone {

struct PrecheckReport {
  std::vector<std::string> schemas;       // the source's user schemas
  std::vector<db::TableInfo> tables;      // their base tables
  std::vector<std::string> target_schemas;  // user schemas already on the target
  std::vector<std::string> empty_target_schemas;  // those of them that hold nothing
  std::vector<std::string> warnings;
};

// Source: reachable, binary log on, server_id set, MariaDB. Target: reachable,
// not older than the source, distinct server_id, may disable its binary log
// for the session, not already a replica (unless adopting), no user schemas that hold
// anything (unless --force or --adopt). Replication account: can log in to the source
// with REPLICATION SLAVE, created first with --create-replication-user (the
// only change this makes, and only on request).
[[nodiscard]] Result<PrecheckReport> RunPrechecks(db::Connection& source, db::Connection& target,
                                                  const CloneOptions& options);

}  // namespace cutover::clone
