// A consistent, lock-free snapshot of a MariaDB source shared by several
// connections, with the GTID position it corresponds to.
//
// Each connection runs START TRANSACTION WITH CONSISTENT SNAPSHOT; MariaDB
// reports the binary log position of each snapshot (Binlog_snapshot_file and
// _position). The connections see the same data exactly when those positions
// are equal, so the snapshot is retried until they are. No global lock is taken.
// Thread-safety: a Snapshot is built on one thread; afterwards each connection
// may move to a thread of its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/connection.h"
#include "db/endpoint.h"

namespace cutover::replication {

struct Snapshot {
  std::vector<db::Connection> connections;  // each inside the same snapshot transaction
  std::string binlog_file;
  uint64_t binlog_position = 0;
  std::string gtid;  // BINLOG_GTID_POS(file, position): where replication starts
  int attempts = 0;  // how many tries it took to line the snapshots up
};

// Opens `count` connections to `source` in one consistent snapshot. The
// sessions use SET NAMES binary and time_zone '+00:00' so that values are read
// as raw bytes. kPrecondition when the binary log is off; kTimeout when the
// snapshots could not be lined up within `max_attempts` (very heavy writes).
[[nodiscard]] Result<Snapshot> OpenSnapshot(const db::Endpoint& source, int count, int max_attempts = 200);

// Starts one snapshot on each of `snapshot.connections` (already open, see
// OpenSnapshotSessions) and retries until they line up; fills the position.
[[nodiscard]] Status LineUpSnapshots(Snapshot& snapshot, const std::string& where, int max_attempts = 200);

// `count` sessions prepared for snapshot reads (binary, UTC, REPEATABLE READ),
// with a read timeout that allows one statement to read `bytes_before_answer`
// before it answers (db::DataReadTimeout).
[[nodiscard]] Result<std::vector<db::Connection>> OpenSnapshotSessions(const db::Endpoint& server, int count,
                                                                       uint64_t bytes_before_answer = 0);

}  // namespace cutover::replication
