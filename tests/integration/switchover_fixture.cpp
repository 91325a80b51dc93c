#include "switchover_fixture.h"

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <fmt/format.h>

#include "cli/move_guardian.h"
#include "clone/clone.h"
#include "local/file_util.h"
#include "protocol/auth.h"
#include "replication/replica.h"

namespace cutover::testing::switchover_tests {

DdlBurst::DdlBurst(db::Endpoint server, std::string prefix) : server_(std::move(server)), prefix_(std::move(prefix)) {
  thread_ = std::jthread([this] { Loop(); });
}

void DdlBurst::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> DdlBurst::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

std::string DdlBurst::setup_error() const {
  std::lock_guard lock(mu_);
  return setup_error_;
}

void DdlBurst::Loop() {
  auto conn = db::Connection::Connect(server_);
  if (!conn) {
    std::lock_guard lock(mu_);
    setup_error_ = conn.error().message();
    return;
  }
  for (int i = 1; !stop_; ++i) {
    for (const std::string& sql : {fmt::format("CREATE TABLE ddl.{}{} (id INT PRIMARY KEY)", prefix_, i),
                                   fmt::format("ALTER TABLE ddl.{}{} ADD COLUMN c INT", prefix_, i),
                                   fmt::format("DROP TABLE IF EXISTS ddl.{}{}", prefix_, i - 1)}) {
      // Flat out, the replica (which applies DDL one at a time) falls behind
      // for good and the catch-up gate rightly refuses to pause.
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      if (stop_) return;  // after the sleep: nothing is sent once a stop was asked for
      Status st = conn->Execute(sql);
      if (st) {
        ++acknowledged_;
        continue;
      }
      {
        std::lock_guard lock(mu_);
        failures_.push_back(sql + ": " + st.error().message());
      }
      auto again = db::Connection::Connect(server_);  // a killed session: the DBA reconnects
      if (!again) return;
      conn = std::move(again);
    }
  }
}

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class QuietClone : public clone::CloneObserver {
 public:
  void Step(std::string_view) override {}
  void Warning(std::string_view) override {}
  void CopyStarted(const std::deque<clone::TableProgress>&) override {}
  void CopyFinished() override {}
  void Lag(const replication::LagSample&) override {}
};

std::string ProxyUserHash() {
  return protocol::FormatNativePasswordHash(
      protocol::NativePasswordStage2(protocol::NativePasswordStage1(kAppPassword)));
}

std::unique_ptr<local::LocalServer> Started(std::future<Result<std::unique_ptr<local::LocalServer>>>& f,
                                            const char* role) {
  auto r = f.get();
  if (!r) {
    ADD_FAILURE() << "the " << role << " did not start: " << r.error().message();
    return nullptr;
  }
  return std::move(*r);
}

}  // namespace

// ---------------------------------------------------------------------------
// StepLog

void StepLog::Step(std::string_view name, std::string_view detail) {
  {
    std::lock_guard lock(mu_);
    lines_.push_back(fmt::format("{}: {}", name, detail));
  }
  if (on_step_) on_step_(name);
}

std::string StepLog::Text() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& l : lines_) out += "  " + l + "\n";
  return out;
}

// ---------------------------------------------------------------------------
// Cluster

Cluster::~Cluster() {
  if (proxy) proxy->Stop();
  admin.reset();
  proxy.reset();
  target.reset();
  source.reset();
  if (!dir.empty()) std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------
// TargetApplyBlock

TargetApplyBlock::TargetApplyBlock(local::LocalServer& target) {
  auto conn = target.ConnectRoot();
  if (!conn) {
    ADD_FAILURE() << conn.error().message();
    return;
  }
  Status locked = conn->Execute("LOCK TABLES cutover_workload.appends WRITE");
  if (!locked) {
    ADD_FAILURE() << "LOCK TABLES on the target: " << locked.error().message();
    return;
  }
  conn_.emplace(std::move(*conn));
  auto watcher = target.ConnectRoot();
  if (!watcher) {
    ADD_FAILURE() << watcher.error().message();
    return;
  }
  // The workload appends several times a second: the applier soon waits.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    auto n = watcher->QueryValue(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table metadata lock%'");
    if (n && *n && **n != "0") return;
    std::this_thread::sleep_for(milliseconds(20));
  }
  ADD_FAILURE() << "the target's replication applier never waited on the appends table lock";
}

void TargetApplyBlock::Release() {
  if (!conn_) return;
  (void)conn_->Execute("UNLOCK TABLES");
  conn_.reset();
}

// ---------------------------------------------------------------------------
// SwitchoverTest

void SwitchoverFixture::SetUp() {
  if (dirty_) {
    cluster_.reset();
    dirty_ = false;
  }
  if (cluster_) {
    const std::string why = Unhealthy();
    if (!why.empty()) {
      fmt::print("[switchover fixture] rebuilding the cluster: {}\n", why);
      cluster_.reset();
    }
  }
  if (!cluster_) {
    BuildCluster();
    if (HasFatalFailure() || HasFailure()) {
      cluster_.reset();
      FAIL() << "could not build the cluster";
    }
    const std::string why = Unhealthy();
    ASSERT_TRUE(why.empty()) << "a freshly built cluster is not as expected: " << why;
  }
  workload_ = std::make_unique<workload::Workload>(LoadOptions());
  Status started = workload_->Start();
  ASSERT_TRUE(started) << started.error().message();
  // Let every client get going before the test acts.
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_GT(workload_->operations(), 0u);
}

void SwitchoverFixture::TearDown() {
  if (workload_) workload_->Stop();
  workload_.reset();
}

workload::WorkloadOptions SwitchoverFixture::LoadOptions() const {
  workload::WorkloadOptions w;
  w.endpoint = ProxyEndpoint();
  w.clients = 8;
  w.rate = 300;
  w.duration = milliseconds(0);  // until Stop()
  return w;
}

db::Endpoint SwitchoverFixture::ProxyEndpoint() const {
  return {"127.0.0.1", cluster_->proxy_port, kAppUser, kAppPassword};
}

void SwitchoverFixture::BuildCluster() {
  const auto start = Clock::now();
  auto c = std::make_unique<Cluster>();
  auto dir = local::MakeTempDir("cutover-switchover-test-");
  ASSERT_TRUE(dir) << dir.error().message();
  c->dir = *dir;
  c->state_file = c->dir + "/switchover.json";

  // Both servers at once: on 2 cores this halves the wait.
  // Each server keeps its temporary files in a directory of its own.
  auto launch = [&c](int id, const char* name) {
    const std::string tmpdir = fmt::format("{}/tmp-{}", c->dir, name);
    std::filesystem::create_directories(tmpdir);
    return std::async(std::launch::async, [id, name, tmpdir] {
      local::LocalServerOptions o;
      o.server_id = id;
      o.name = name;
      o.max_connections = 2600;  // 2,000 sessions, each with a standby connection during a move
      o.extra_args = {"--tmpdir=" + tmpdir};
      return local::LocalServer::Start(o);
    });
  };
  auto source_future = launch(1, "sw-source");
  auto target_future = launch(2, "sw-target");
  c->source = Started(source_future, "source");
  c->target = Started(target_future, "target");
  ASSERT_TRUE(c->source && c->target);

  CreateAppUser(*c->source);
  {
    auto root = c->source->ConnectRoot();
    ASSERT_TRUE(root) << root.error().message();
    for (const char* sql :
         {"CREATE DATABASE shop", "USE shop",
          "CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(64), note VARCHAR(64), KEY (name))",
          "INSERT INTO shop.customers SELECT seq, CONCAT('customer ', seq), NULL FROM seq_1_to_5000"}) {
      Status st = root->Execute(sql);
      ASSERT_TRUE(st) << sql << ": " << st.error().message();
    }
  }

  proxy::ProxyConfig config;
  config.listen = {"127.0.0.1", 0};
  config.admin_listen = {"127.0.0.1", 0};
  config.admin_token = kAdminToken;
  config.state_file = c->dir + "/proxy.state";
  config.users.push_back(proxy::ProxyUser{
      kAppUser, false, protocol::NativePasswordStage2(protocol::NativePasswordStage1(kAppPassword))});
  config.primary = {c->source->host(), c->source->port()};
  c->proxy = std::make_unique<proxy::ProxyServer>(std::move(config));
  cli::Config guardian;  // root on both servers, as `cutover proxy` has [source] and [target]
  for (auto [server, slot] : {std::pair{c->source.get(), &guardian.source}, std::pair{c->target.get(), &guardian.target}}) {
    const db::Endpoint e = server->RootEndpoint();
    *slot = cli::ServerConfig{e.host, e.port, e.user, e.password};
  }
  c->proxy->SetMoveGuardian(cli::MakeMoveGuardian(guardian));
  Status proxy_started = c->proxy->Start();
  ASSERT_TRUE(proxy_started) << proxy_started.error().message();
  c->admin = std::make_unique<proxy::AdminApi>(*c->proxy);
  Status admin_started = c->admin->Start();
  ASSERT_TRUE(admin_started) << admin_started.error().message();
  c->proxy_port = c->proxy->listen_port();
  c->admin_port = c->admin->port();
  cluster_ = std::move(c);

  // The workload's tables, created through the proxy; then the clone copies
  // the source while a first workload writes to it.
  workload::WorkloadOptions w = LoadOptions();
  Status setup = workload::Setup(w.endpoint, w);
  ASSERT_TRUE(setup) << setup.error().message();
  workload::Workload during_clone(w);
  Status started = during_clone.Start();
  ASSERT_TRUE(started) << started.error().message();

  clone::CloneOptions co;
  co.source = source().RootEndpoint();
  co.target = target().RootEndpoint();
  co.replication = {source().host(), source().port(), kSwReplUser, kSwReplPassword};
  co.threads = 2;
  co.replica_threads = 2;
  co.with_users = true;
  co.create_replication_user = true;
  co.catchup_timeout = std::chrono::seconds(60);
  QuietClone quiet;
  std::atomic<bool> cancel{false};
  auto cloned = clone::RunClone(co, quiet, cancel);
  ASSERT_TRUE(cloned) << cloned.error().message();

  auto report = during_clone.Check(source().RootEndpoint());
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->ok()) << "the workload during the clone:\n" << workload::FormatSummary(*report);
  fmt::print("[switchover fixture] cluster built in {:.1f} s (source {}, target {}, proxy {}, admin {})\n",
             std::chrono::duration<double>(Clock::now() - start).count(), source().port(), target().port(),
             cluster_->proxy->listen_port(), admin_port());
}

std::string SwitchoverFixture::Unhealthy() {
  if (!cluster_->source->running()) return "the source is not running";
  if (!cluster_->target->running()) return "the target is not running";
  auto state = switchover::LoadMoveState(state_file());
  if (!state) return state.error().message();
  if (state->primary != "source" || state->in_progress || state->old_released) {
    return fmt::format("state file: primary {}, in progress {}, released {}", state->primary, state->in_progress,
                       state->old_released);
  }
  auto s = cluster_->source->ConnectRoot();
  auto t = cluster_->target->ConnectRoot();
  if (!s || !t) return "cannot log in to a server";
  auto s_ro = s->QueryValue("SELECT @@GLOBAL.read_only");
  auto t_ro = t->QueryValue("SELECT @@GLOBAL.read_only");
  if (!s_ro || !t_ro || !*s_ro || !*t_ro || **s_ro != "0" || **t_ro != "1") return "read_only is not source 0, target 1";
  auto repl = replication::ReadReplicaStatus(*t);
  if (!repl) return repl.error().message();
  if (!repl->running() || repl->source_port != cluster_->source->port()) {
    return "the target does not replicate from the source: " + repl->Describe();
  }
  auto status = Http(admin_port(), "GET", "/status");
  if (status.status != 200) return "the proxy's admin API does not answer";
  if (status.body["paused"].get<bool>()) return "the proxy is paused";
  if (status.body["primary"].get<std::string>() != Address("source")) return "the proxy does not point at the source";
  return "";
}

switchover::SwitchoverOptions SwitchoverFixture::Options() const {
  switchover::SwitchoverOptions o;
  const local::LocalServer& s = *cluster_->source;
  const local::LocalServer& t = *cluster_->target;
  o.source = {"source", s.RootEndpoint(), s.host(), s.port()};
  o.target = {"target", t.RootEndpoint(), t.host(), t.port()};
  o.repl_user = kSwReplUser;
  o.repl_password = kSwReplPassword;
  o.proxy = {"127.0.0.1", cluster_->admin->port(), kAdminToken};
  o.proxy_users.push_back({kAppUser, ProxyUserHash()});
  o.state_file = cluster_->state_file;
  return o;
}

std::string SwitchoverFixture::WriteConfig(int64_t catchup_timeout_ms, int64_t max_pause_ms) {
  const local::LocalServer& s = *cluster_->source;
  const local::LocalServer& t = *cluster_->target;
  const std::string path = cluster_->dir + "/cutover.toml";
  std::ofstream out(path);
  out << fmt::format(
      "[proxy]\n"
      "listen = \"127.0.0.1:{}\"\n"
      "admin_listen = \"127.0.0.1:{}\"\n"
      "state_file = \"{}/proxy.state\"\n"
      "admin_token = \"{}\"\n"
      "\n"
      "[[proxy.users]]\n"
      "name = \"{}\"\n"
      "password = \"{}\"\n"
      "\n"
      "[source]\nhost = \"{}\"\nport = {}\nuser = \"root\"\npassword = \"{}\"\n\n"
      "[target]\nhost = \"{}\"\nport = {}\nuser = \"root\"\npassword = \"{}\"\n\n"
      "[replication]\nuser = \"{}\"\npassword = \"{}\"\n\n"
      "[switchover]\nstate_file = \"{}\"\ncatchup_timeout_ms = {}\nmax_pause_ms = {}\ngate_timeout_ms = 0\n",
      cluster_->proxy_port, admin_port(), cluster_->dir, kAdminToken, kAppUser, kAppPassword, s.host(), s.port(), s.options().root_password, t.host(),
      t.port(), t.options().root_password, kSwReplUser, kSwReplPassword, cluster_->state_file, catchup_timeout_ms,
      max_pause_ms > 0 ? max_pause_ms : catchup_timeout_ms + 1000);
  return path;
}

void SwitchoverFixture::StopInProcessProxy() {
  MarkClusterDirty();
  cluster_->proxy->Stop();
  cluster_->admin.reset();
  cluster_->proxy.reset();
}

db::Connection SwitchoverFixture::Root(const std::string& role) {
  auto conn = Server(role).ConnectRoot();
  if (!conn) {
    ADD_FAILURE() << role << ": " << conn.error().message();
    std::abort();
  }
  return std::move(*conn);
}

std::string SwitchoverFixture::ReadOnly(const std::string& role) {
  db::Connection conn = Root(role);
  auto v = conn.QueryValue("SELECT @@GLOBAL.read_only");
  if (!v || !*v) {
    ADD_FAILURE() << role << ": cannot read @@read_only";
    return "?";
  }
  return **v;
}

std::vector<std::string> SwitchoverFixture::WritableServers() {
  std::vector<std::string> writable;
  for (const std::string role : {"source", "target"}) {
    if (Server(role).running() && ReadOnly(role) == "0") writable.push_back(role);
  }
  return writable;
}

nlohmann::json SwitchoverFixture::ProxyStatus() {
  HttpResult r = Http(admin_port(), "GET", "/status");
  EXPECT_EQ(r.status, 200) << "GET /status";
  return r.body;
}

std::string SwitchoverFixture::Address(const std::string& role) {
  return fmt::format("{}:{}", Server(role).host(), Server(role).port());
}

switchover::MoveState SwitchoverFixture::LoadState() {
  auto state = switchover::LoadMoveState(state_file());
  if (!state) {
    ADD_FAILURE() << state.error().message();
    return {};
  }
  return *state;
}

void SwitchoverFixture::ExpectWorkloadProgress(const std::string& when) {
  const uint64_t before = workload_->operations();
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline && workload_->operations() < before + 50) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_GE(workload_->operations(), before + 50) << "the workload made no progress " << when;
}

workload::WorkloadReport SwitchoverFixture::FinishAndCheck(const std::string& primary, bool expect_no_errors,
                                                          const std::string& proxy_address) {
  EXPECT_EQ(WritableServers(), std::vector<std::string>{primary}) << "exactly one writable primary";
  nlohmann::json status = ProxyStatus();
  EXPECT_FALSE(status.value("paused", true)) << status.dump();
  EXPECT_EQ(status.value("primary", ""), proxy_address.empty() ? Address(primary) : proxy_address) << status.dump();

  auto report = workload_->Check(Server(primary).RootEndpoint());
  if (!report) {
    ADD_FAILURE() << "workload check: " << report.error().message();
    return {};
  }
  const std::string summary = workload::FormatSummary(*report);
  EXPECT_TRUE(report->checked);
  EXPECT_EQ(report->appends_missing, 0u) << summary;
  EXPECT_EQ(report->appends_duplicated, 0u) << summary;
  EXPECT_EQ(report->appends_unexpected, 0u) << summary;
  EXPECT_TRUE(report->bank_intact()) << summary;
  EXPECT_GT(report->appends_acknowledged, 0u) << summary;
  if (expect_no_errors) {
    EXPECT_TRUE(report->errors.empty()) << summary;
    EXPECT_TRUE(report->ok()) << summary;
  }
  std::string errors;
  for (const auto& [key, n] : report->errors) errors += fmt::format(" [{} x {}]", n, key);
  fmt::print("[workload] {}: {} ops ({} appends acknowledged, {} unknown), {} errors{}, longest op {:.1f} ms, "
             "p99 {:.2f} ms, missing {}, duplicated {}, bank {}/{}\n",
             ::testing::UnitTest::GetInstance()->current_test_info()->name(), report->operations,
             report->appends_acknowledged, report->appends_unknown, report->error_count(), errors,
             report->longest_op_ms, report->p99_ms, report->appends_missing, report->appends_duplicated,
             report->bank_total_found, report->bank_total_expected);
  return *report;
}

}  // namespace cutover::testing::switchover_tests
