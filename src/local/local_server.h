// A throw-away mariadbd for tests, benchmarks and the demo: its own datadir in
// a fresh temporary directory, a free port on 127.0.0.1, and a root account
// that logs in over TCP with a known password.
//
// Start() copies a datadir template (see datadir_template.h), starts mariadbd
// and returns once a real login and SELECT 1 succeed. A server that cannot
// start is an error, never a reason to skip. The destructor stops the server
// and deletes the directory. If the process that started it dies, the server
// gets SIGKILL (see child_process.h).
//
// With binlog on, the server has --log-bin=mysql-bin, --binlog-format=ROW,
// --log-slave-updates and --gtid-strict-mode=ON; the root account is set up
// with sql_log_bin=0, so a fresh server's binary log holds no transactions.
//
// Start(), Stop(), Restart() and the destructor block (up to about a minute).
// Thread-safety: none; one LocalServer is used by one thread at a time.
// Distinct servers may be started from distinct threads concurrently.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/connection.h"
#include "db/endpoint.h"
#include "local/child_process.h"

namespace cutover::local {

struct LocalServerOptions {
  int server_id = 1;
  bool binlog = true;
  std::string buffer_pool = "64M";  // --innodb-buffer-pool-size
  int max_connections = 500;
  std::vector<std::string> extra_args;  // appended last, so they override the defaults
  std::string root_password = "cutover-root";
  std::string name = "server";  // in the directory name and in error messages
};

class LocalServer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<LocalServer>> Start(LocalServerOptions options);

  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  // Stops the server (SIGTERM, up to 10 s, then SIGKILL) and removes its directory.
  ~LocalServer();

  const std::string& host() const { return host_; }  // "127.0.0.1"
  uint16_t port() const { return port_; }             // the same across Restart()
  const LocalServerOptions& options() const { return options_; }
  // root over TCP, with options().root_password.
  db::Endpoint RootEndpoint() const;
  [[nodiscard]] Result<db::Connection> ConnectRoot() const;
  std::string socket_path() const;
  std::string datadir() const;
  std::string error_log_path() const;
  // "local server 'primary' (127.0.0.1:40123)", how errors name this server.
  std::string Describe() const;

  // Clean shutdown: SIGTERM, then up to 10 s for mariadbd to exit (SIGKILL
  // after that, reported as kTimeout). Succeeds at once when not running.
  [[nodiscard]] Status Stop();
  // SIGKILL now, as a crash would; returns once the process is gone.
  void Kill();
  // Stops the server if it is running and starts it again on the same port
  // and datadir (after Kill(), InnoDB recovers as after a crash).
  [[nodiscard]] Status Restart();
  // Appends mariadbd options to every later start (a Restart(), say), e.g.
  // --read-only=ON for a server that must come back read-only after a crash.
  // Not thread-safe against a concurrent Restart().
  void AddStartArguments(const std::vector<std::string>& args);
  bool running() const { return child_.running(); }
  pid_t pid() const { return child_.pid(); }  // -1 when not running

 private:
  LocalServer(LocalServerOptions options, std::string mariadbd, std::string dir);

  // Copies the datadir template and writes the init file into dir_.
  Status PrepareDirectory(const std::string& template_dir);
  // Starts mariadbd and waits until it is ready. With port 0, picks a free
  // port and retries on another one if it is taken meanwhile.
  Status Launch(uint16_t fixed_port);
  Status LaunchOnce(uint16_t port);
  Status WaitReady();
  std::vector<std::string> Arguments() const;
  // The last lines this run wrote to the error log and to stdout/stderr.
  std::string LogTail() const;
  bool LogSaysPortInUse() const;

  LocalServerOptions options_;
  std::string mariadbd_;  // path of the binary
  std::string dir_;       // the temporary directory holding everything below
  std::string host_ = "127.0.0.1";
  uint16_t port_ = 0;  // 0 until the first launch picks one
  bool port_taken_ = false;  // Did the last launch find another server answering on port_?
  ChildProcess child_;
  uint64_t error_log_offset_ = 0;  // error log size when the current run started
  uint64_t output_offset_ = 0;     // same, for stdout/stderr
};

}  // namespace cutover::local
