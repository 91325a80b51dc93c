// What must hold before a move starts. Each failure names the server, what is
// wrong and what to do; nothing is changed.
// Thread-safety: plain functions over the connections passed in.
#pragma once

#include <functional>

#include "common/error.h"
#include "db/connection.h"
#include "switchover/proxy_admin.h"
#include "switchover/switchover.h"

namespace cutover::switchover {

// `from` is the current primary, `to` the replica that will take over.
[[nodiscard]] Status CheckBeforeMove(const SwitchoverOptions& options, const ServerRole& from, const ServerRole& to,
                                     db::Connection& from_conn, db::Connection& to_conn, ProxyAdmin& proxy);

// Threads on `conn`'s server with a transaction open longer than `seconds`
// ("id 12 (app@10.0.0.7, 42 s)"), excluding `conn` itself.
[[nodiscard]] Result<std::vector<std::string>> OpenTransactions(db::Connection& conn, int64_t seconds);

// KILLs every connection with an open InnoDB transaction except `conn` and
// the connection ids `spare()` names; returns who was killed. `spare` is
// called only when some transaction is open (the proxy's session list is big
// with thousands of sessions, and the fence runs inside the pause).
[[nodiscard]] Result<std::vector<std::string>> KillOpenTransactions(
    db::Connection& conn, const std::function<Result<std::vector<uint64_t>>()>& spare);

// KILLs every connection waiting on the fence (BACKUP STAGE) except `conn`
// and `fence_id`: statements that would otherwise commit on the old primary the
// moment the fence lifts, after the final position was read (DDL and writes of
// READ_ONLY ADMIN holders). Their clients get an error instead of an OK for a
// change the new primary never sees. Returns who was killed.
[[nodiscard]] Result<std::vector<std::string>> KillFenceWaiters(db::Connection& conn, uint64_t fence_id);

}  // namespace cutover::switchover
