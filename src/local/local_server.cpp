#include "local/local_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "local/datadir_template.h"
#include "local/file_util.h"

namespace cutover::local {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr seconds kReadyTimeout{60};
constexpr seconds kStopTimeout{10};
constexpr int kPortAttempts = 5;
// Matches the template's; see datadir_template.cpp.
constexpr std::string_view kInnodbLogFileSize = "16M";
// MySQL's ER_ACCESS_DENIED_ERROR: no point waiting for a login that is refused.
constexpr uint16_t kAccessDenied = 1045;

// Asks the kernel for a free port on 127.0.0.1. Another process may take it
// before mariadbd binds it; Launch() retries on another port when that happens.
Result<uint16_t> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(Error::Io(fmt::format("cannot create a socket: {}", strerror(errno))));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  int err = errno;
  close(fd);
  if (!ok) return Fail(Error::Io(fmt::format("cannot find a free port on 127.0.0.1: {}", strerror(err))));
  return ntohs(addr.sin_port);
}

// Does the server's @@datadir name `dir` (the same directory, however spelt)?
bool SameDirectory(const std::string& served, const std::string& dir) {
  std::error_code ec;
  return std::filesystem::equivalent(served, dir, ec) && !ec;
}

// A single-quoted SQL string literal (the init file has no connection to escape with).
std::string SqlString(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// Runs at every start, so it must be idempotent. sql_log_bin=0 keeps these
// statements out of the binary log: a fresh server's GTID position stays
// empty, and replicas cloned from another server see no foreign transactions.
// One statement per line: mariadbd reads the init file line by line.
std::string InitFileSql(const std::string& password) {
  std::string sql = "SET SESSION sql_log_bin = 0;\n";
  for (std::string_view host : {"127.0.0.1", "localhost", "::1"}) {
    sql += fmt::format("CREATE USER IF NOT EXISTS 'root'@'{}';\n", host);
    sql += fmt::format("ALTER USER 'root'@'{}' IDENTIFIED VIA mysql_native_password USING PASSWORD({});\n", host,
                       SqlString(password));
    sql += fmt::format("GRANT ALL PRIVILEGES ON *.* TO 'root'@'{}' WITH GRANT OPTION;\n", host);
  }
  return sql;
}

std::string OutputLogPath(const std::string& dir) { return dir + "/mariadbd.out"; }
std::string InitFilePath(const std::string& dir) { return dir + "/init.sql"; }

long long MillisSince(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

}  // namespace

Result<std::unique_ptr<LocalServer>> LocalServer::Start(LocalServerOptions options) {
  auto start = steady_clock::now();
  std::string what = fmt::format("local server '{}' failed to start", options.name);
  auto binaries = FindMariadbBinaries();
  if (!binaries) return Fail(binaries.error().WithContext(what));
  auto template_dir = EnsureDatadirTemplate(*binaries);
  if (!template_dir) return Fail(template_dir.error().WithContext(what));
  auto dir = MakeTempDir(fmt::format("cutover-{}-", SafeFileName(options.name)));
  if (!dir) return Fail(dir.error().WithContext(what));
  // From here on the destructor removes the directory, also on failure.
  std::unique_ptr<LocalServer> server(new LocalServer(std::move(options), binaries->mariadbd, *dir));
  if (Status prepared = server->PrepareDirectory(*template_dir); !prepared) {
    return Fail(prepared.error().WithContext(what));
  }
  if (Status launched = server->Launch(0); !launched) return Fail(std::move(launched.error()));
  spdlog::debug("{} started in {} ms (pid {}, dir {})", server->Describe(), MillisSince(start), server->pid(),
                server->dir_);
  return server;
}

LocalServer::LocalServer(LocalServerOptions options, std::string mariadbd, std::string dir)
    : options_(std::move(options)), mariadbd_(std::move(mariadbd)), dir_(std::move(dir)) {}

LocalServer::~LocalServer() {
  if (Status stopped = Stop(); !stopped) spdlog::debug("{}", stopped.error().message());
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (ec) spdlog::debug("cannot remove {}: {}", dir_, ec.message());
}

db::Endpoint LocalServer::RootEndpoint() const { return {host_, port_, "root", options_.root_password}; }

Result<db::Connection> LocalServer::ConnectRoot() const { return db::Connection::Connect(RootEndpoint()); }

std::string LocalServer::socket_path() const { return dir_ + "/mariadbd.sock"; }
std::string LocalServer::datadir() const { return dir_ + "/data"; }
std::string LocalServer::error_log_path() const { return dir_ + "/error.log"; }

std::string LocalServer::Describe() const {
  if (port_ == 0) return fmt::format("local server '{}'", options_.name);
  return fmt::format("local server '{}' ({}:{})", options_.name, host_, port_);
}

Status LocalServer::PrepareDirectory(const std::string& template_dir) {
  if (socket_path().size() >= sizeof(sockaddr_un::sun_path)) {
    return Fail(Error::Config(
        fmt::format("socket path {} is too long for a unix socket; set TMPDIR to a shorter path", socket_path())));
  }
  if (Status copied = CopyDatadir(template_dir, datadir()); !copied) return copied;
  return WritePrivateFile(InitFilePath(dir_), InitFileSql(options_.root_password));
}

std::vector<std::string> LocalServer::Arguments() const {
  std::vector<std::string> args = {
      mariadbd_,
      "--no-defaults",  // must come first
      "--datadir=" + datadir(),
      fmt::format("--port={}", port_),
      "--bind-address=" + host_,
      "--socket=" + socket_path(),
      "--pid-file=" + dir_ + "/mariadbd.pid",
      "--log-error=" + error_log_path(),
      fmt::format("--server-id={}", options_.server_id),
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=" + options_.buffer_pool,
      fmt::format("--innodb-log-file-size={}", kInnodbLogFileSize),
      fmt::format("--max-connections={}", options_.max_connections),
      "--binlog-format=ROW",
      "--gtid-strict-mode=ON",
      "--relay-log=relay-bin",  // the default name has the host name in it
      "--init-file=" + InitFilePath(dir_),
  };
  if (options_.binlog) {
    args.push_back("--log-bin=mysql-bin");
    args.push_back("--log-slave-updates");
  }
  if (geteuid() == 0) args.push_back("--user=root");  // mariadbd refuses to run as root without it
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

Status LocalServer::Launch(uint16_t fixed_port) {
  Status last;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    uint16_t port = fixed_port;
    if (port == 0) {
      auto picked = PickFreePort();
      if (!picked) return Fail(picked.error().WithContext(Describe() + " failed to start"));
      port = *picked;
    }
    last = LaunchOnce(port);
    if (last || !(LogSaysPortInUse() || port_taken_)) return last;
    spdlog::debug("{}: port {} is in use, retrying", Describe(), port);
    // A fixed port (a restart) may be held briefly by a client's ephemeral socket.
    if (fixed_port != 0) std::this_thread::sleep_for(milliseconds(200));
  }
  return last;
}

Status LocalServer::LaunchOnce(uint16_t port) {
  port_ = port;
  port_taken_ = false;
  error_log_offset_ = FileSize(error_log_path());
  output_offset_ = FileSize(OutputLogPath(dir_));
  auto child = ChildProcess::Spawn(Arguments(), OutputLogPath(dir_));
  if (!child) return Fail(child.error().WithContext(Describe() + " failed to start"));
  child_ = std::move(*child);
  return WaitReady();
}

Status LocalServer::WaitReady() {
  auto deadline = steady_clock::now() + kReadyTimeout;
  db::ConnectOptions options{.connect_timeout = seconds(2), .read_timeout = seconds(10)};
  for (;;) {
    if (!child_.running()) {
      auto status = child_.WaitExit(milliseconds(0));
      return Fail(Error::Io(fmt::format(
          "{} failed to start: mariadbd {} before accepting connections; check the arguments and {}. Its log ends:\n{}",
          Describe(), status ? ChildProcess::DescribeWaitStatus(*status) : "exited", error_log_path(), LogTail())));
    }
    auto conn = db::Connection::Connect(RootEndpoint(), options);
    // Another throw-away server that took the same free port first answers
    // there while this one is still starting (and about to fail to bind):
    // the datadir tells them apart, and Launch() retries on another port.
    auto served = conn ? conn->QueryValue("SELECT @@datadir") : Fail(std::move(conn.error()));
    if (served && !SameDirectory(served->value_or(""), datadir())) {
      child_.KillAndReap();
      port_taken_ = true;
      return Fail(Error::Io(fmt::format("{}: port {} is served by another server (datadir {})", Describe(),
                                              port_, served->value_or("?"))));
    }
    Status ready = served ? Status{} : Fail(std::move(served.error()));
    if (ready) return {};
    bool refused = ready.error().server_errno() == kAccessDenied;
    if (refused || steady_clock::now() >= deadline) {
      child_.KillAndReap();
      return Fail(Error::Timeout(fmt::format("{} failed to start: {} (last login attempt: {}); see {}. Its log ends:\n{}",
                                             Describe(), refused ? "root login refused" : "not ready after 60 s",
                                             ready.error().message(), error_log_path(), LogTail())));
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

std::string LocalServer::LogTail() const {
  std::string tail = TailOfFile(error_log_path(), error_log_offset_);
  std::string output = TailOfFile(OutputLogPath(dir_), output_offset_, 10);
  if (!output.empty()) tail += fmt::format("\n(stdout/stderr:)\n{}", output);
  return tail;
}

bool LocalServer::LogSaysPortInUse() const {
  return TailOfFile(error_log_path(), error_log_offset_).find("Address already in use") != std::string::npos;
}

Status LocalServer::Stop() {
  if (!child_.running()) {
    child_.KillAndReap();  // reaps a server that died on its own
    return {};
  }
  child_.Signal(SIGTERM);
  auto status = child_.WaitExit(kStopTimeout);
  if (!status) {
    child_.KillAndReap();
    return Fail(Error::Timeout(fmt::format("{} did not shut down within {} s of SIGTERM and was killed; see {}",
                                           Describe(), kStopTimeout.count(), error_log_path())));
  }
  if (*status != 0) {
    return Fail(Error::Io(fmt::format("{} shut down uncleanly: mariadbd {}. Its log ends:\n{}", Describe(),
                                      ChildProcess::DescribeWaitStatus(*status), LogTail())));
  }
  spdlog::debug("{} stopped", Describe());
  return {};
}

void LocalServer::Kill() {
  child_.KillAndReap();
  spdlog::debug("{} killed", Describe());
}

void LocalServer::AddStartArguments(const std::vector<std::string>& args) {
  options_.extra_args.insert(options_.extra_args.end(), args.begin(), args.end());
}

Status LocalServer::Restart() {
  if (Status stopped = Stop(); !stopped) spdlog::debug("{}", stopped.error().message());
  auto start = steady_clock::now();
  if (Status launched = Launch(port_); !launched) return launched;
  spdlog::debug("{} restarted in {} ms (pid {})", Describe(), MillisSince(start), pid());
  return {};
}

}  // namespace cutover::local
