// Turns SIGINT and SIGTERM into a flag that long-running commands poll, so
// that they stop at a safe point and say what state they left behind.
// Thread-safety: construct on the main thread before starting any other
// thread (the signals are blocked and inherited as blocked).
#pragma once

#include <atomic>
#include <csignal>
#include <thread>

namespace cutover::cli {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Becomes true at the first SIGINT or SIGTERM.
  const std::atomic<bool>& stop() const { return stop_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> closing_{false};
  std::thread waiter_;
};

}  // namespace cutover::cli
