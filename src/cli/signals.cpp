#include "cli/signals.h"

#include <ctime>

#include <fmt/format.h>

namespace cutover::cli {
namespace {

sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

StopSignals::StopSignals() {
  sigset_t set = StopSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  waiter_ = std::thread([this] {
    sigset_t waiting = StopSet();
    const timespec tick{0, 100'000'000};
    while (!closing_) {
      const int signal = sigtimedwait(&waiting, nullptr, &tick);
      if (signal == SIGINT || signal == SIGTERM) {
        if (!stop_.exchange(true)) fmt::print(stderr, "\nstopping at the next safe point (signal {})...\n", signal);
      }
    }
  });
}

StopSignals::~StopSignals() {
  closing_ = true;
  waiter_.join();
}

}  // namespace cutover::cli
