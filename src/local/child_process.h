// A child process started with fork+exec, for servers and tools that must not
// outlive the test or demo that started them.
//
// The child gets SIGKILL when its parent process dies (PR_SET_PDEATHSIG), runs
// in its own process group (a terminal's Ctrl-C reaches only the parent),
// writes stdout and stderr to a file, reads /dev/null, inherits no descriptor
// beyond 0-2, and has RLIMIT_NOFILE raised as high as it is allowed to go.
//
// PR_SET_PDEATHSIG fires when the *thread* that forked exits, not the process,
// so every fork happens on one thread that lives as long as the process; a
// server started from a short-lived worker thread is therefore safe.
//
// Thread-safety: Spawn() may be called from any thread. One ChildProcess object
// is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace cutover::local {

class ChildProcess {
 public:
  // Starts argv[0] (an absolute path) with the given arguments. kIo when the
  // program cannot be executed (the message names it and the errno).
  // REQUIRES: !argv.empty().
  [[nodiscard]] static Result<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                                  const std::string& output_path);

  ChildProcess() = default;  // Holds no process.
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // SIGKILLs and reaps a child that is still running.

  // -1 when no process is held or it has been reaped.
  pid_t pid() const { return pid_; }
  // True while the process has not exited. Does not reap it.
  bool running() const;
  void Signal(int signal) const;
  // Waits up to `timeout` for the process to exit and reaps it. Returns its
  // wait status (see DescribeWaitStatus), or kTimeout if it is still running.
  // REQUIRES: pid() != -1.
  [[nodiscard]] Result<int> WaitExit(std::chrono::milliseconds timeout);
  // SIGKILL now, and reap. Does nothing when no process is held.
  void KillAndReap();

  // "exited with status 1" or "killed by signal 9".
  static std::string DescribeWaitStatus(int status);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

  pid_t pid_ = -1;  // Not yet reaped, or -1.
};

}  // namespace cutover::local
