#include "switchover/move_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"

namespace cutover::switchover {
namespace {

constexpr std::string_view kStepNames[] = {"prechecked", "pause",  "fence",  "catch-up",           "promote",
                                           "repoint",    "resume", "reverse-replication", "cascade", "done"};

Result<Step> StepFromName(std::string_view name) {
  for (size_t i = 0; i < std::size(kStepNames); ++i) {
    if (kStepNames[i] == name) return static_cast<Step>(i);
  }
  return Fail(Error::Config(fmt::format("unknown switchover step '{}'", name)));
}

}  // namespace

std::string_view StepName(Step step) { return kStepNames[static_cast<size_t>(step)]; }

Result<MoveState> LoadMoveState(const std::string& path) {
  auto text = ReadFileIfExists(path);
  if (!text) return Fail(text.error());
  MoveState state;
  if (!*text) return state;
  auto j = nlohmann::json::parse(**text, nullptr, false);
  auto bad = [&] {
    return Fail(Error::Config(fmt::format("switchover state file {} is damaged; inspect both servers before removing it",
                                          path)));
  };
  if (j.is_discarded() || !j.is_object()) return bad();
  try {
    state.primary = j.at("primary").get<std::string>();
    state.old_released = j.value("old_released", false);
    if (j.contains("move") && j["move"].is_object()) {
      const auto& m = j["move"];
      state.in_progress = true;
      state.from = m.at("from").get<std::string>();
      state.to = m.at("to").get<std::string>();
      auto step = StepFromName(m.at("step").get<std::string>());
      if (!step) return Fail(step.error());
      state.step = *step;
      state.started_at = m.value("started_at", "");
      state.final_gtid = m.value("final_gtid", "");
      state.from_was_read_only = m.value("from_was_read_only", false);
      for (const auto& t : m.value("timeline", nlohmann::json::array())) {
        state.timeline.push_back({t.at("step").get<std::string>(), t.at("ms").get<double>()});
      }
    }
  } catch (const nlohmann::json::exception&) {
    return bad();
  }
  return state;
}

Status SaveMoveState(const std::string& path, const MoveState& state) {
  nlohmann::json j{{"primary", state.primary}, {"old_released", state.old_released}};
  if (state.in_progress) {
    nlohmann::json timeline = nlohmann::json::array();
    for (const auto& t : state.timeline) timeline.push_back({{"step", t.name}, {"ms", t.ms}});
    j["move"] = {{"from", state.from},
                 {"to", state.to},
                 {"step", StepName(state.step)},
                 {"started_at", state.started_at},
                 {"final_gtid", state.final_gtid},
                 {"from_was_read_only", state.from_was_read_only},
                 {"timeline", timeline}};
  }
  return WriteFileAtomically(path, j.dump(2) + "\n");
}

Result<MoveLock> MoveLock::Acquire(const std::string& state_path) {
  const std::string path = state_path + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(Error::Io(fmt::format("{}: cannot open: {}", path, std::strerror(errno))));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Fail(Error::Precondition(fmt::format(
        "another cutover switchover, rollback or finish is running (it holds {}); wait for it to end", path)));
  }
  return MoveLock(fd);
}

MoveLock::~MoveLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace cutover::switchover
