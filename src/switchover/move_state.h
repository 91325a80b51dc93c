// The switchover's memory: which server is the primary, and how far an
// unfinished move got. Saved atomically BEFORE each step's side effect, so
// that `--resume` and `--abort` know what may have happened.
// Thread-safety: plain values; the lock is per process.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace cutover::switchover {

// The steps of a move, in order. Everything before kPromote can be undone;
// kPromote is the commit point (the new primary becomes writable).
enum class Step {
  kPrechecked,
  kPause,
  kFence,
  kCatchUp,
  kPromote,
  kRepoint,
  kResume,
  kReverseReplication,
  kCascade,
  kDone,
};
std::string_view StepName(Step step);

struct StepTiming {
  std::string name;
  double ms = 0;
};

struct MoveState {
  std::string primary = "source";  // the committed primary: "source" or "target"
  bool old_released = false;       // `finish` ran: no reverse replication any more
  // The move in progress, if any.
  bool in_progress = false;
  std::string from;  // role names
  std::string to;
  Step step = Step::kPrechecked;
  std::string started_at;
  std::string final_gtid;                  // the old primary's position after the fence
  bool from_was_read_only = false;         // to restore on undo
  std::vector<StepTiming> timeline;
};

[[nodiscard]] Result<MoveState> LoadMoveState(const std::string& path);
[[nodiscard]] Status SaveMoveState(const std::string& path, const MoveState& state);

// An exclusive lock (flock) on "<path>.lock", held while a move runs, so that a
// second switchover on this machine is refused at once.
class MoveLock {
 public:
  [[nodiscard]] static Result<MoveLock> Acquire(const std::string& state_path);
  MoveLock(MoveLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  MoveLock& operator=(MoveLock&&) = delete;
  ~MoveLock();

 private:
  explicit MoveLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace cutover::switchover
