// `--with-users`: copies accounts and their grants from source to target, so
// that the proxy's users (and the replication account, for replication in
// the other direction after a switchover) can log in to the target.
// Skipped: root, the built-in mariadb.sys and mysql accounts, roles, and any
// account the target already has (reported, never overwritten).
// Thread-safety: plain function over the connections passed in.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "db/connection.h"

namespace cutover::clone {

struct UserCopyReport {
  std::vector<std::string> copied;   // 'user'@'host'
  std::vector<std::string> skipped;  // with the reason
};

// REQUIRES: `target` has sql_log_bin=0.
[[nodiscard]] Result<UserCopyReport> CopyUsers(db::Connection& source, db::Connection& target);

}  // namespace cutover::clone
