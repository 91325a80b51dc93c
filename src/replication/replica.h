// Replication control on MariaDB: read a replica's state, point it at a
// source from a GTID position, and wait for it to catch up.
//
// MariaDB syntax (SHOW SLAVE STATUS, CHANGE MASTER ... MASTER_USE_GTID,
// MASTER_GTID_WAIT). MySQL 8 spells these differently (SHOW REPLICA STATUS,
// SOURCE_AUTO_POSITION, WAIT_FOR_EXECUTED_GTID_SET) and is not supported yet.
// Thread-safety: functions use only the connections they are given.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/error.h"
#include "db/connection.h"
#include "replication/gtid.h"

namespace cutover::replication {

// The part of SHOW SLAVE STATUS that cutover acts on.
struct ReplicaStatus {
  bool configured = false;  // false: the server is not a replica
  std::string source_host;
  uint16_t source_port = 0;
  std::string io_running;   // "Yes", "No", "Connecting" or (MariaDB 10.11, starting) "Preparing"
  std::string sql_running;  // "Yes" or "No"
  std::optional<int64_t> seconds_behind;  // NULL while a thread is stopped
  std::string last_io_error;
  std::string last_sql_error;
  std::string using_gtid;  // "No", "Slave_Pos" or "Current_Pos"
  std::string gtid_io_pos;

  bool running() const { return io_running == "Yes" && sql_running == "Yes"; }
  // One line for people: "replicating from h:p, 0 s behind" or what is broken.
  std::string Describe() const;
};

// Where the replica connects and as whom.
struct SourceAddress {
  std::string host;
  uint16_t port = 3306;
  std::string user;
  std::string password;
};

[[nodiscard]] Result<ReplicaStatus> ReadReplicaStatus(db::Connection& replica);
// @@gtid_binlog_pos: the last GTID this server wrote to its binary log, per domain.
[[nodiscard]] Result<std::string> ReadBinlogGtid(db::Connection& server);
// @@gtid_slave_pos: the last GTID this replica applied, per domain.
[[nodiscard]] Result<std::string> ReadAppliedGtid(db::Connection& replica);

// The transactions in `server`'s binary log that `other`'s does not hold
// (UncoveredGtids of their @@gtid_binlog_state): on a replica, errant ones.
[[nodiscard]] Result<std::vector<Gtid>> ErrantGtids(db::Connection& server, db::Connection& other);
// A refusal for people: `server` holds `errant`, which `other` never had;
// what that breaks and the ways out.
Error ErrantGtidsError(const db::Connection& server, const db::Connection& other, const std::vector<Gtid>& errant);

// Has `server` applied `gtid` already (MASTER_GTID_WAIT without waiting)?
[[nodiscard]] Result<bool> HasApplied(db::Connection& server, const std::string& gtid);

// Makes `replica` replicate from `source` starting after `gtid` (gtid_slave_pos),
// with MASTER_USE_GTID=slave_pos, and starts both threads. With
// `parallel_threads` > 0 it also sets slave_parallel_threads (MariaDB applies
// transactions in parallel, optimistically, committing in source order).
// Replica metadata left unreadable by a crash (error 1201) is reset and the
// change retried once.
// REQUIRES: replica's replication is stopped or was never configured.
[[nodiscard]] Status StartReplica(db::Connection& replica, const SourceAddress& source, const std::string& gtid,
                                  int parallel_threads = 0);

// STOP SLAVE (when replicating) and RESET SLAVE ALL. Idempotent, and clears
// replica metadata a crash left half-written.
[[nodiscard]] Status StopAndForgetReplica(db::Connection& replica);

// Waits until `replica` has applied `gtid`, for at most `timeout`.
// kTimeout when it has not; kPrecondition when replication is broken.
[[nodiscard]] Status WaitForGtid(db::Connection& replica, const std::string& gtid, std::chrono::milliseconds timeout);

struct LagSample {
  std::string source_gtid;   // source's @@gtid_binlog_pos when sampled
  std::string applied_gtid;  // replica's @@gtid_slave_pos
  std::optional<int64_t> seconds_behind;
  bool caught_up = false;    // the replica had applied source_gtid
};

// Polls until the replica has applied everything the source had written when
// last sampled, reporting each sample. Fails when replication breaks, when
// `timeout` passes (zero: no limit) or when `cancel` becomes true.
[[nodiscard]] Status FollowUntilCaughtUp(db::Connection& source, db::Connection& replica,
                                         std::chrono::seconds timeout, const std::atomic<bool>& cancel,
                                         const std::function<void(const LagSample&)>& on_sample);

}  // namespace cutover::replication
