// The mark an unfinished clone leaves on its target: schema `_cutover`, table
// clone_state, one row per schema the clone created. It is written (without
// binary logging) before anything else and dropped once replication is set
// up, so a target that still carries it is known to be incomplete.
// Thread-safety: plain functions over the connection passed in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/connection.h"

namespace cutover::clone {

struct InterruptedClone {
  std::string started;  // when, per the target's clock
  std::string source;   // host:port it was copying from
  std::vector<std::string> schemas;  // what it had created
};

// REQUIRES: `target` has sql_log_bin=0 (true of every function here).
[[nodiscard]] Result<std::optional<InterruptedClone>> FindInterruptedClone(db::Connection& target);
[[nodiscard]] Status MarkCloneStarted(db::Connection& target, const std::string& source);
[[nodiscard]] Status RecordCreatedSchema(db::Connection& target, const std::string& schema);
// Drops what an interrupted clone created and forgets any replication it set up.
[[nodiscard]] Status UndoInterruptedClone(db::Connection& target, const InterruptedClone& clone);
[[nodiscard]] Status MarkCloneComplete(db::Connection& target);

}  // namespace cutover::clone
