// One comparison round: sessions on the source and on the target that all
// see the data as of the same GTID, while the source keeps writing.
//
// Begin(): STOP SLAVE on the target; line up snapshot sessions on the source
// at GTID G; START SLAVE UNTIL master_gtid_pos = G, wait for the target to stop
// exactly there; open snapshot sessions on the target; START SLAVE. The
// target's replication is paused only for that alignment (milliseconds when
// it is caught up), and is restarted even when a step fails.
// Thread-safety: Begin/End on one thread; between them, session i may be used
// by worker thread i.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/connection.h"
#include "db/endpoint.h"
#include "replication/snapshot.h"

namespace cutover::verify {

class AlignedRound {
 public:
  // `bytes_before_answer`: the most one checksum reads before it answers
  // (sizes the sessions' read timeout, db::DataReadTimeout).
  [[nodiscard]] static Result<AlignedRound> Open(const db::Endpoint& source, const db::Endpoint& target, int sessions,
                                                 uint64_t bytes_before_answer);

  // REQUIRES: no round is active.
  [[nodiscard]] Status Begin(std::chrono::seconds align_timeout);
  // Ends the snapshots (they only read).
  [[nodiscard]] Status End();

  db::Connection& source(size_t i) { return source_.connections[i]; }
  db::Connection& target(size_t i) { return target_[i]; }
  size_t sessions() const { return target_.size(); }
  const std::string& gtid() const { return source_.gtid; }
  // How long the target's replication was stopped by the last Begin().
  std::chrono::milliseconds replication_paused() const { return paused_; }

 private:
  AlignedRound(replication::Snapshot source, std::vector<db::Connection> target, db::Connection control)
      : source_(std::move(source)), target_(std::move(target)), control_(std::move(control)) {}
  Status WaitStoppedAt(const std::string& gtid, std::chrono::seconds timeout);

  replication::Snapshot source_;       // sessions and the round's position
  std::vector<db::Connection> target_;
  db::Connection control_;             // runs STOP/START SLAVE on the target
  std::chrono::milliseconds paused_{0};
};

}  // namespace cutover::verify
