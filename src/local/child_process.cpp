#include "local/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace cutover::local {
namespace {

// Closes a descriptor when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Close(); }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Everything the child needs, prepared before fork(): between fork() and
// exec() only async-signal-safe calls are allowed.
struct ExecPlan {
  std::vector<char*> argv;  // nullptr-terminated
  int output_fd = -1;
  int null_fd = -1;
  int error_pipe = -1;  // write end, O_CLOEXEC, so a successful exec closes it
  pid_t parent_pid = 0;
  rlim_t nofile_wanted = 0;
};

// The kernel's ceiling for RLIMIT_NOFILE; root may raise the hard limit to it.
rlim_t MaxNofile() {
  std::ifstream in("/proc/sys/fs/nr_open");
  rlim_t value = 0;
  if (!(in >> value)) value = 0;
  return value;
}

// Async-signal-safe: runs in the child.
void RaiseNofileLimit(rlim_t wanted) {
  rlimit current{};
  if (getrlimit(RLIMIT_NOFILE, &current) != 0) return;
  if (wanted > current.rlim_max) {
    rlimit raised{wanted, wanted};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;  // needs CAP_SYS_RESOURCE
  }
  current.rlim_cur = current.rlim_max;
  setrlimit(RLIMIT_NOFILE, &current);
}

// Async-signal-safe: runs in the child between fork() and exec().
[[noreturn]] void RunChild(const ExecPlan& plan) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != plan.parent_pid) _exit(127);  // the parent died before prctl()
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Ignored signals stay ignored across exec(); a proxy parent ignores SIGPIPE.
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
  RaiseNofileLimit(plan.nofile_wanted);
  dup2(plan.null_fd, STDIN_FILENO);
  dup2(plan.output_fd, STDOUT_FILENO);
  dup2(plan.output_fd, STDERR_FILENO);
  // Sockets the parent forgot to mark close-on-exec (a proxy's listener) must
  // not stay open, and their ports busy, in the server.
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  execv(plan.argv[0], plan.argv.data());
  int err = errno;
  [[maybe_unused]] ssize_t n = write(plan.error_pipe, &err, sizeof err);
  _exit(127);
}

// Forks on one thread that lives as long as the process, because
// PR_SET_PDEATHSIG fires when the forking thread exits.
class ForkThread {
 public:
  static ForkThread& Get() {
    static ForkThread* thread = new ForkThread();  // never destroyed: it must outlive every child
    return *thread;
  }

  // Returns the child's pid, or -errno.
  pid_t Fork(const ExecPlan& plan) {
    std::packaged_task<pid_t()> job([&plan] {
      pid_t pid = fork();
      if (pid == 0) RunChild(plan);
      return pid < 0 ? -errno : pid;  // errno is this thread's own
    });
    std::future<pid_t> pid = job.get_future();
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
    return pid.get();
  }

 private:
  ForkThread() { std::thread([this] { Loop(); }).detach(); }

  [[noreturn]] void Loop() {
    for (;;) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !jobs_.empty(); });
      std::packaged_task<pid_t()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<pid_t()>> jobs_;  // guarded by mu_
};

// Reads the errno a failed exec() wrote; 0 when exec() succeeded (EOF).
int ReadExecErrno(int fd) {
  int err = 0;
  ssize_t n;
  do {
    n = read(fd, &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof err) ? err : 0;
}

}  // namespace

Result<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv, const std::string& output_path) {
  assert(!argv.empty());
  UniqueFd output(open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (output.get() < 0) return Fail(Error::Io(fmt::format("cannot open {}: {}", output_path, strerror(errno))));
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int pipe_fds[2];
  if (null.get() < 0 || pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Fail(Error::Io(fmt::format("cannot start {}: {}", argv[0], strerror(errno))));
  }
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);

  static const rlim_t kMaxNofile = MaxNofile();
  ExecPlan plan{.output_fd = output.get(), .null_fd = null.get(), .error_pipe = write_end.get(),
                .parent_pid = getpid(), .nofile_wanted = kMaxNofile};
  for (const std::string& arg : argv) plan.argv.push_back(const_cast<char*>(arg.c_str()));
  plan.argv.push_back(nullptr);

  pid_t pid = ForkThread::Get().Fork(plan);
  write_end.Close();
  if (pid < 0) return Fail(Error::Io(fmt::format("cannot fork for {}: {}", argv[0], strerror(-pid))));
  if (int exec_errno = ReadExecErrno(read_end.get()); exec_errno != 0) {
    waitpid(pid, nullptr, 0);
    return Fail(Error::Io(fmt::format("cannot run {}: {}", argv[0], strerror(exec_errno))));
  }
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    KillAndReap();
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

ChildProcess::~ChildProcess() { KillAndReap(); }

bool ChildProcess::running() const {
  if (pid_ < 0) return false;
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  return info.si_pid == 0;
}

void ChildProcess::Signal(int signal) const {
  if (pid_ > 0) kill(pid_, signal);
}

Result<int> ChildProcess::WaitExit(std::chrono::milliseconds timeout) {
  assert(pid_ > 0);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done < 0 && errno == ECHILD)) {
      pid_ = -1;
      return status;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Fail(Error::Timeout(fmt::format("process {} still running after {} ms", pid_, timeout.count())));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void ChildProcess::KillAndReap() {
  if (pid_ < 0) return;
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string ChildProcess::DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("ended with wait status {}", status);
}

}  // namespace cutover::local
