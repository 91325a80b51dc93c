#include "verify_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "proxy_fixture.h"

extern char** environ;

namespace cutover::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string LastLine(const std::string& text) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  const size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1));
}

std::string MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cutover-verify-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return "";
  }
  return pattern;
}

}  // namespace

// ---------------------------------------------------------------- VerifyChild

VerifyChild::VerifyChild(const std::vector<std::string>& argv, const std::string& dir, const std::string& name)
    : out_path_(dir + "/" + name + ".out"), err_path_(dir + "/" + name + ".err") {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(rc);
    pid_ = -1;
  }
}

VerifyChild::~VerifyChild() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    Reap(true);
  }
}

bool VerifyChild::Reap(bool block) {
  if (pid_ <= 0 || exited_) return exited_;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) return false;
  exited_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return true;
}

bool VerifyChild::WaitForStdout(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Stdout().find(text) != std::string::npos) return true;
    if (Reap(false)) return Stdout().find(text) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

int VerifyChild::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(false)) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "child " << pid_ << " still runs after " << timeout.count() << " ms; killing it";
      ::kill(pid_, SIGKILL);
      Reap(true);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

void VerifyChild::Signal(int signal) {
  if (pid_ > 0 && !exited_) ::kill(pid_, signal);
}

std::string VerifyChild::Stdout() const { return ReadFile(out_path_); }
std::string VerifyChild::Stderr() const { return ReadFile(err_path_); }

// -------------------------------------------------------------- VerifyOutcome

std::set<std::string> VerifyOutcome::Differences() const {
  std::set<std::string> out;
  if (!has_report()) return out;
  for (const auto& t : last["tables"]) {
    for (const auto& d : t["differences"]) {
      out.insert(fmt::format("{} {} {}", t["table"].get<std::string>(), d["key"].get<std::string>(),
                             d["kind"].get<std::string>()));
    }
  }
  return out;
}

std::map<std::string, std::string> VerifyOutcome::Results() const {
  std::map<std::string, std::string> out;
  if (!has_report()) return out;
  for (const auto& t : last["tables"]) out[t["table"].get<std::string>()] = t["result"].get<std::string>();
  return out;
}

nlohmann::json VerifyOutcome::Table(const std::string& table) const {
  if (!has_report()) return nullptr;
  for (const auto& t : last["tables"]) {
    if (t["table"] == table) return t;
  }
  return nullptr;
}

VerifyOutcome CollectOutcome(const VerifyChild& child, int exit_code) {
  VerifyOutcome outcome;
  outcome.exit_code = exit_code;
  outcome.out = child.Stdout();
  outcome.err = child.Stderr();
  outcome.last = nlohmann::json::parse(LastLine(outcome.out), nullptr, false);
  return outcome;
}

std::string VerifyOutcome::Describe() const {
  return fmt::format("exit code {}\n--- stdout ---\n{}\n--- stderr ---\n{}", exit_code, out, err);
}

// ---------------------------------------------------------------- SQL helpers

std::string VerifySqlValue(db::Connection& conn, const std::string& sql) {
  auto v = conn.QueryValue(sql);
  if (!v) {
    ADD_FAILURE() << sql << ": " << v.error().message();
    return "<error>";
  }
  return v->value_or("<NULL>");
}

void VerifySqlExec(db::Connection& conn, const std::string& sql) {
  Status st = conn.Execute(sql);
  ASSERT_TRUE(st) << sql << ": " << st.error().message();
}

// -------------------------------------------------------------- VerifyServers

std::unique_ptr<VerifyServers> VerifyServers::Create(uint64_t sbtest_rows, const std::string& clone_args) {
  std::unique_ptr<VerifyServers> s(new VerifyServers);
  s->dir_ = MakeTempDir();
  if (s->dir_.empty()) return nullptr;
  {
    // The two servers start side by side: each start is mostly waiting.
    std::jthread start_target([&] { s->target_ = StartServer(2, "target"); });
    s->source_ = StartServer(1, "source");
  }
  if (!s->source_ || !s->target_) return nullptr;
  s->sbtest_rows_ = sbtest_rows;
  s->CreateSchemas(sbtest_rows);
  if (::testing::Test::HasFailure()) return nullptr;
  s->Clone(clone_args);
  if (::testing::Test::HasFailure()) return nullptr;
  return s;
}

VerifyServers::~VerifyServers() {
  source_.reset();
  target_.reset();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

db::Connection VerifyServers::ConnectSource() {
  auto conn = source_->ConnectRoot();
  if (!conn) {
    ADD_FAILURE() << conn.error().message();
    std::abort();
  }
  return std::move(*conn);
}

db::Connection VerifyServers::ConnectTargetUnlogged() {
  auto conn = target_->ConnectRoot();
  if (!conn) {
    ADD_FAILURE() << conn.error().message();
    std::abort();
  }
  VerifySqlExec(*conn, "SET SESSION sql_log_bin = 0");
  return std::move(*conn);
}

void VerifyServers::CreateSchemas(uint64_t sbtest_rows) {
  db::Connection source = ConnectSource();
  VerifySqlExec(source, "CREATE DATABASE sbtest");
  const CommandResult prepared =
      RunShell(fmt::format("sysbench oltp_write_only --tables=2 --table-size={} --mysql-host=127.0.0.1 --mysql-port={} "
                           "--mysql-user=root --mysql-password={} --mysql-db=sbtest prepare",
                           sbtest_rows, source_->port(), source_->options().root_password));
  ASSERT_EQ(prepared.exit_code, 0) << prepared.output;

  for (const char* sql : {
           "CREATE DATABASE kinds",
           "USE kinds",  // the Sequence engine's seq_1_to_N needs a current schema
           "CREATE TABLE kinds.types (id INT NOT NULL PRIMARY KEY, "
           "name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL, "
           "note VARCHAR(40) CHARACTER SET utf8mb4 NULL, data BLOB NULL)",
           "INSERT INTO kinds.types SELECT seq, CONCAT('name-', seq), "
           "IF(seq % 3 = 0, NULL, CONCAT('note ', seq)), CONCAT(REPEAT(X'00FF5C27', 100), UNHEX(MD5(seq))) "
           "FROM seq_1_to_300",
           // The rows the corruption test changes, with the values it needs.
           "UPDATE kinds.types SET note = NULL WHERE id = 3",
           "UPDATE kinds.types SET name = 'a' WHERE id = 4",
           "UPDATE kinds.types SET name = 'trail' WHERE id = 5",
           "CREATE TABLE kinds.regions (region VARCHAR(8) NOT NULL, n INT NOT NULL, v INT NOT NULL, "
           "label VARCHAR(20) NULL, PRIMARY KEY (region, n))",
           "INSERT INTO kinds.regions SELECT r.region, s.seq, s.seq * 10, CONCAT(r.region, '-', s.seq) "
           "FROM (SELECT 'ap' AS region UNION ALL SELECT 'eu' UNION ALL SELECT 'us' UNION ALL SELECT 'x') r "
           "CROSS JOIN seq_1_to_50 s",
           "CREATE TABLE kinds.log (a INT NULL, msg VARCHAR(20) NULL)",
           "INSERT INTO kinds.log SELECT seq, CONCAT('m', seq % 10) FROM seq_1_to_100",
           "INSERT INTO kinds.log SELECT seq, CONCAT('m', seq % 10) FROM seq_1_to_100",
       }) {
    VerifySqlExec(source, sql);
  }
}

void VerifyServers::Clone(const std::string& clone_args) {
  config_ = dir_ + "/cutover.toml";
  std::ofstream(config_) << fmt::format(
      "[source]\nhost = \"{}\"\nport = {}\nuser = \"root\"\npassword = \"{}\"\n\n"
      "[target]\nhost = \"{}\"\nport = {}\nuser = \"root\"\npassword = \"{}\"\n\n"
      "[replication]\nuser = \"repl\"\npassword = \"repl-secret\"\n",
      source_->host(), source_->port(), source_->options().root_password, target_->host(), target_->port(),
      target_->options().root_password);
  const CommandResult cloned =
      RunShell(fmt::format("{} clone --config {} --create-replication-user {}", CUTOVER_BINARY, config_, clone_args));
  if (cloned.exit_code != 0) {
    std::string deadlock;
    if (auto target = target_->ConnectRoot()) {
      if (auto r = target->Query("SHOW ENGINE INNODB STATUS"); r && !r->rows.empty()) {
        const std::string status = r->rows[0].back().value_or("");
        const size_t at = status.find("LATEST DETECTED DEADLOCK");
        if (at != std::string::npos) deadlock = status.substr(at, status.find("TRANSACTIONS\n", at) - at);
      }
    }
    FAIL() << "cutover clone failed:\n" << cloned.output << deadlock;
  }
  ASSERT_EQ(ReplicationThreads(), "Yes/Yes");
}

std::vector<std::string> VerifyServers::VerifyArgv(const std::vector<std::string>& args,
                                                   const std::string& config) const {
  std::vector<std::string> argv{CUTOVER_BINARY, "verify", "--config", config.empty() ? config_ : config, "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

VerifyOutcome VerifyServers::Verify(const std::vector<std::string>& args) {
  VerifyChild child(VerifyArgv(args), dir_, fmt::format("verify-{}", ++runs_));
  const int exit_code = child.Wait(std::chrono::minutes(2));
  return CollectOutcome(child, exit_code);
}

std::unique_ptr<VerifyChild> VerifyServers::StartVerify(const std::vector<std::string>& args,
                                                        const std::string& config) {
  return std::make_unique<VerifyChild>(VerifyArgv(args, config), dir_, fmt::format("verify-{}", ++runs_));
}

std::unique_ptr<VerifyChild> VerifyServers::StartSysbench(int seconds, int threads) {
  const std::vector<std::string> argv{"/usr/bin/sysbench",
                                      "oltp_write_only",
                                      "--tables=2",
                                      fmt::format("--table-size={}", sbtest_rows_),
                                      "--mysql-host=127.0.0.1",
                                      fmt::format("--mysql-port={}", source_->port()),
                                      "--mysql-user=root",
                                      fmt::format("--mysql-password={}", source_->options().root_password),
                                      "--mysql-db=sbtest",
                                      fmt::format("--time={}", seconds),
                                      "--rate=0",
                                      "--report-interval=1",
                                      fmt::format("--threads={}", threads),
                                      "run"};
  return std::make_unique<VerifyChild>(argv, dir_, fmt::format("sysbench-{}", ++runs_));
}

std::string VerifyServers::ReplicationThreads() {
  auto conn = target_->ConnectRoot();
  if (!conn) return "<" + conn.error().message() + ">";
  auto r = conn->Query("SHOW SLAVE STATUS");
  if (!r) return "<" + r.error().message() + ">";
  if (r->rows.empty()) return "<not a replica>";
  std::string io = "?", sql = "?";
  for (size_t i = 0; i < r->columns.size(); ++i) {
    if (r->columns[i] == "Slave_IO_Running") io = r->rows[0][i].value_or("<NULL>");
    if (r->columns[i] == "Slave_SQL_Running") sql = r->rows[0][i].value_or("<NULL>");
  }
  return io + "/" + sql;
}

std::string VerifyServers::WaitReplicationRunning() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string state = ReplicationThreads();
  while (state != "Yes/Yes" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    state = ReplicationThreads();
  }
  return state;
}

void VerifyServers::WaitCaughtUp(std::chrono::seconds timeout) {
  db::Connection source = ConnectSource();
  const std::string pos = VerifySqlValue(source, "SELECT @@GLOBAL.gtid_binlog_pos");
  auto target = target_->ConnectRoot();
  ASSERT_TRUE(target) << target.error().message();
  EXPECT_EQ(VerifySqlValue(*target, fmt::format("SELECT MASTER_GTID_WAIT('{}', {})", pos, timeout.count())), "0")
      << "the target did not apply " << pos << " within " << timeout.count() << " s; replication "
      << ReplicationThreads();
}

// ----------------------------------------------------------- TargetCorruption

void TargetCorruption::Save(const std::string& table, const std::string& where) {
  // A temporary table lives only in this session: verify never sees it.
  const std::string copy = fmt::format("kinds.saved_{}", saved_.size());
  Exec(fmt::format("CREATE TEMPORARY TABLE {} AS SELECT * FROM {} WHERE {}", copy, table, where));
  saved_.push_back({table, where, copy});
}

void TargetCorruption::Restore() {
  while (!saved_.empty()) {
    const Saved s = saved_.back();
    saved_.pop_back();
    Exec(fmt::format("DELETE FROM {} WHERE {}", s.table, s.where));
    Exec(fmt::format("INSERT INTO {} SELECT * FROM {}", s.table, s.copy));
    Exec(fmt::format("DROP TEMPORARY TABLE {}", s.copy));
  }
}

}  // namespace cutover::testing
