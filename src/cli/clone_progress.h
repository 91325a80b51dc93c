// How `cutover clone` reports progress: a live table of bars on a terminal,
// a plain line every few seconds otherwise, or one JSON object per line with
// --json (for scripts).
// Thread-safety: the observer methods are called from the clone's thread (and
// TableDone from workers); a display thread of its own reads the counters.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "clone/clone.h"

namespace cutover::cli {

enum class OutputMode { kTerminal, kPlain, kJson };

// kJson when asked; kTerminal when `stream` is a terminal; kPlain otherwise.
OutputMode ChooseOutputMode(bool json, std::FILE* stream);

class CloneProgress : public clone::CloneObserver {
 public:
  explicit CloneProgress(OutputMode mode) : mode_(mode) {}
  ~CloneProgress() override { CopyFinished(); }

  void Step(std::string_view what) override;
  void Warning(std::string_view what) override;
  void CopyStarted(const std::deque<clone::TableProgress>& tables) override;
  void CopyFinished() override;
  void Lag(const replication::LagSample& sample) override;

  void Done(const clone::CloneReport& report);
  void Failed(const Error& error);

 private:
  void Render(bool final);
  void RenderTerminal(bool final);
  void RenderPlain();
  void RenderJson();
  void Loop();

  const OutputMode mode_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mu_;  // serializes output
  const std::deque<clone::TableProgress>* tables_ = nullptr;  // set during the copy
  std::chrono::steady_clock::time_point copy_start_;
  std::atomic<bool> copying_{false};
  std::jthread display_;
  int drawn_lines_ = 0;  // terminal lines the last frame used
};

}  // namespace cutover::cli
