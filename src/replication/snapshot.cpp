#include "replication/snapshot.h"

#include <algorithm>
#include <barrier>
#include <thread>

#include <fmt/format.h>

namespace cutover::replication {
namespace {

struct Position {
  std::string file;
  uint64_t offset = 0;
  bool operator==(const Position&) const = default;
};

Status Prepare(db::Connection& conn) {
  for (const char* sql : {"SET SESSION time_zone = '+00:00'", "SET SESSION sql_mode = ''",
                          "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                          // A long copy must not be cut off by the server's idle timeouts.
                          "SET SESSION net_write_timeout = 3600", "SET SESSION wait_timeout = 86400"}) {
    if (Status st = conn.Execute(sql); !st) return st;
  }
  return {};
}

Result<Position> SnapshotPosition(db::Connection& conn) {
  auto r = conn.Query("SHOW SESSION STATUS LIKE 'Binlog_snapshot_%'");
  if (!r) return Fail(r.error());
  Position p;
  for (const db::Row& row : r->rows) {
    if (!row[0] || !row[1]) continue;
    if (*row[0] == "Binlog_snapshot_file") p.file = *row[1];
    if (*row[0] == "Binlog_snapshot_position") p.offset = std::strtoull(row[1]->c_str(), nullptr, 10);
  }
  if (p.file.empty()) {
    return Fail(Error::Precondition(fmt::format(
        "source {}: no binary log position for the snapshot; binary logging must be on (--log-bin)", conn.where())));
  }
  return p;
}

// Starts a snapshot on every connection at (nearly) the same instant: one
// thread each, released together by a barrier.
Result<std::vector<Position>> StartTogether(std::vector<db::Connection>& conns) {
  std::vector<Result<Position>> results(conns.size(), Fail(Error::Cancelled("not started")));
  std::barrier sync(static_cast<std::ptrdiff_t>(conns.size()));
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < conns.size(); ++i) {
      threads.emplace_back([&, i] {
        sync.arrive_and_wait();
        Status st = conns[i].Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
        results[i] = st ? SnapshotPosition(conns[i]) : Result<Position>(Fail(st.error()));
      });
    }
  }
  std::vector<Position> out;
  for (auto& r : results) {
    if (!r) return Fail(r.error());
    out.push_back(*r);
  }
  return out;
}

}  // namespace

Result<std::vector<db::Connection>> OpenSnapshotSessions(const db::Endpoint& server, int count,
                                                         uint64_t bytes_before_answer) {
  std::vector<db::Connection> out;
  for (int i = 0; i < count; ++i) {
    db::ConnectOptions options;
    options.charset = "binary";
    // They read whole chunks (clone) and checksum them (verify).
    options.read_timeout = db::DataReadTimeout(server, bytes_before_answer);
    auto conn = db::Connection::Connect(server, options);
    if (!conn) return Fail(conn.error());
    if (Status st = Prepare(*conn); !st) return Fail(st.error());
    out.push_back(std::move(*conn));
  }
  return out;
}

Status LineUpSnapshots(Snapshot& snap, const std::string& where, int max_attempts) {
  for (snap.attempts = 1; snap.attempts <= max_attempts; ++snap.attempts) {
    auto positions = StartTogether(snap.connections);
    if (!positions) return Fail(positions.error());
    if (std::all_of(positions->begin(), positions->end(), [&](const Position& p) { return p == positions->front(); })) {
      snap.binlog_file = positions->front().file;
      snap.binlog_position = positions->front().offset;
      auto gtid = snap.connections.front().QueryValue(fmt::format(
          "SELECT BINLOG_GTID_POS({}, {})", snap.connections.front().Quote(snap.binlog_file), snap.binlog_position));
      if (!gtid) return Fail(gtid.error());
      if (!*gtid) {
        return Fail(Error::Precondition(
            fmt::format("{}: BINLOG_GTID_POS('{}', {}) is NULL", where, snap.binlog_file, snap.binlog_position)));
      }
      snap.gtid = **gtid;
      return {};
    }
    for (db::Connection& c : snap.connections) {
      if (Status st = c.Execute("ROLLBACK"); !st) return Fail(st.error());
    }
  }
  return Fail(Error::Timeout(fmt::format(
      "{}: could not line up {} consistent snapshots in {} attempts; writes are too frequent. "
      "Retry at a quieter moment or with fewer --threads",
      where, snap.connections.size(), max_attempts)));
}

Result<Snapshot> OpenSnapshot(const db::Endpoint& source, int count, int max_attempts) {
  Snapshot snap;
  auto sessions = OpenSnapshotSessions(source, count);
  if (!sessions) return Fail(sessions.error());
  snap.connections = std::move(*sessions);
  if (Status st = LineUpSnapshots(snap, "source " + source.ToString(), max_attempts); !st) return Fail(st.error());
  return snap;
}

}  // namespace cutover::replication
