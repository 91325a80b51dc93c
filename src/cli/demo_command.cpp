#include "cli/demo_command.h"

#include <csignal>
#include <filesystem>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/clone_progress.h"
#include "cli/move_guardian.h"
#include "cli/signals.h"
#include "clone/clone.h"
#include "local/file_util.h"
#include "local/local_server.h"
#include "protocol/auth.h"
#include "proxy/admin_api.h"
#include "proxy/proxy_server.h"
#include "switchover/switchover.h"
#include "verify/verify.h"
#include "workload/workload.h"

namespace cutover::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kAppUser[] = "app";
constexpr char kAppPassword[] = "app-secret";
constexpr char kReplUser[] = "repl";
constexpr char kReplPassword[] = "repl-secret";

class DemoFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void Check(const Status& st, std::string_view what) {
  if (!st) throw DemoFailed(fmt::format("{}: {}", what, st.error().message()));
}

template <class T>
T Check(Result<T> r, std::string_view what) {
  if (!r) throw DemoFailed(fmt::format("{}: {}", what, r.error().message()));
  return std::move(*r);
}

void Title(std::string_view text) { fmt::print("\n== {}\n", text); }

class QuietVerify : public verify::VerifyObserver {
 public:
  void Step(std::string_view what) override { fmt::print("  {}\n", what); }
  void Warning(std::string_view what) override { fmt::print("  warning: {}\n", what); }
  void Progress(size_t, size_t, uint64_t, size_t) override {}
};

class PrintSteps : public switchover::SwitchoverObserver {
 public:
  void Step(std::string_view name, std::string_view detail) override { fmt::print("  {:<20} {}\n", name, detail); }
};

// The two servers, the proxy and the load, torn down in reverse order.
class Demo {
 public:
  explicit Demo(const DemoOptions& options) : options_(options) {}

  int Run() {
    const auto start = Clock::now();
    StartServers();
    // From here on Ctrl-C is a flag polled between steps (servers started
    // earlier keep the default signal handling, so they stop promptly).
    signals_ = std::make_unique<StopSignals>();
    LoadSampleData();
    StartProxy();
    StartLoad();
    Settle();
    Clone();
    Settle();
    const bool identical = Verify();
    Settle();
    Switchover();
    Settle();
    return Summarize(identical, start);
  }

  ~Demo() {
    if (workload_) workload_->Stop();
    if (proxy_) proxy_->Stop();
    admin_.reset();
    proxy_.reset();
    target_.reset();
    source_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

 private:
  void Interrupted() {
    if (signals_ && signals_->stop()) throw DemoFailed("interrupted; cleaning up");
  }

  void StartServers() {
    Title("starting two local MariaDB servers");
    local::LocalServerOptions small{.server_id = 1, .buffer_pool = "64M", .name = "demo-small"};
    local::LocalServerOptions big{.server_id = 2, .buffer_pool = "256M", .name = "demo-big"};
    source_ = Check(local::LocalServer::Start(small), "starting the source");
    target_ = Check(local::LocalServer::Start(big), "starting the target");
    dir_ = Check(local::MakeTempDir("cutover-demo-"), "making a work directory");
    fmt::print("  source (the \"small instance\", 64M buffer pool): 127.0.0.1:{}\n", source_->port());
    fmt::print("  target (the \"bigger instance\", 256M buffer pool): 127.0.0.1:{}, empty\n", target_->port());
  }

  void LoadSampleData() {
    Title(fmt::format("loading sample data: {} tables x {} rows, an application user", options_.tables, options_.rows));
    auto root = Check(source_->ConnectRoot(), "connecting to the source");
    std::vector<std::string> sql = {
        fmt::format("CREATE USER '{}'@'%' IDENTIFIED BY '{}'", kAppUser, kAppPassword),
        fmt::format("GRANT ALL PRIVILEGES ON *.* TO '{}'@'%'", kAppUser),
        "CREATE DATABASE shop",
        "USE shop",
        "CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(64) CHARACTER SET utf8mb4, "
        "created DATETIME(6), note TEXT)",
        "INSERT INTO shop.customers SELECT seq, CONCAT('customer ', seq, ' \xe2\x9c\x93'), "
        "'2026-01-01' + INTERVAL seq SECOND, IF(seq % 7 = 0, NULL, REPEAT('x', seq % 50)) FROM seq_1_to_5000",
        "CREATE VIEW shop.big_customers AS SELECT id, name FROM shop.customers WHERE id > 4000"};
    for (int t = 1; t <= options_.tables; ++t) {
      sql.push_back(fmt::format(
          "CREATE TABLE shop.orders{} (id INT AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, "
          "amount DECIMAL(12,2) NOT NULL, status ENUM('new','paid','shipped') NOT NULL, payload VARBINARY(200), "
          "KEY (customer))",
          t));
      sql.push_back(fmt::format(
          "INSERT INTO shop.orders{} SELECT seq, seq % 5000 + 1, (seq * 37 % 100000) / 100, "
          "ELT(seq % 3 + 1, 'new','paid','shipped'), RANDOM_BYTES(1 + seq % 120) FROM seq_1_to_{}",
          t, options_.rows));
    }
    for (const std::string& s : sql) Check(root.Execute(s), "loading sample data");
  }

  // Root on both servers: how the proxy ends a move whose switchover died.
  Config GuardianConfig() const {
    Config c;
    const db::Endpoint s = source_->RootEndpoint(), t = target_->RootEndpoint();
    c.source = ServerConfig{s.host, s.port, s.user, s.password};
    c.target = ServerConfig{t.host, t.port, t.user, t.password};
    return c;
  }

  void StartProxy() {
    Title("starting the cutover proxy: the application's one endpoint");
    proxy::ProxyConfig config;
    config.listen = {"127.0.0.1", 0};
    config.admin_listen = {"127.0.0.1", 0};
    config.admin_token = "demo-token";
    config.state_file = dir_ + "/proxy.state";
    config.users.push_back(proxy::ProxyUser{
        kAppUser, false, protocol::NativePasswordStage2(protocol::NativePasswordStage1(kAppPassword))});
    config.primary = {source_->host(), source_->port()};
    proxy_ = std::make_unique<proxy::ProxyServer>(std::move(config));
    proxy_->SetMoveGuardian(MakeMoveGuardian(GuardianConfig()));
    Check(proxy_->Start(), "starting the proxy");
    admin_ = std::make_unique<proxy::AdminApi>(*proxy_);
    Check(admin_->Start(), "starting the admin API");
    fmt::print("  clients connect to 127.0.0.1:{} (admin API on 127.0.0.1:{})\n", proxy_->listen_port(),
               admin_->port());
  }

  void StartLoad() {
    Title(fmt::format("starting the workload through the proxy: {} clients, {:.0f} operations/s", options_.clients,
                      options_.rate));
    workload::WorkloadOptions w;
    w.endpoint = {"127.0.0.1", proxy_->listen_port(), kAppUser, kAppPassword};
    w.clients = options_.clients;
    w.rate = options_.rate;
    w.duration = std::chrono::milliseconds(0);
    Check(workload::Setup(w.endpoint, w), "creating the workload's tables");
    workload_ = std::make_unique<workload::Workload>(w);
    Check(workload_->Start(), "starting the workload");
    fmt::print("  appends (autocommit), bank transfers (transactions), reads; every acknowledged write is logged\n");
  }

  void Settle() {
    Interrupted();
    std::this_thread::sleep_for(std::chrono::seconds(options_.settle_seconds));
    fmt::print("  [load] {} operations, {} errors, longest operation {:.1f} ms\n", workload_->operations(),
               workload_->error_count(), workload_->longest_op_ms());
    Interrupted();
  }

  replication::SourceAddress ReplicationFrom(const local::LocalServer& s) const {
    return {s.host(), s.port(), kReplUser, kReplPassword};
  }

  void Clone() {
    Title("cutover clone: copy the live source to the target without locking it, then replicate");
    clone::CloneOptions c;
    c.source = source_->RootEndpoint();
    c.target = target_->RootEndpoint();
    c.replication = ReplicationFrom(*source_);
    c.threads = 2;
    c.with_users = true;
    c.create_replication_user = true;
    CloneProgress progress(OutputMode::kPlain);
    auto report = Check(clone::RunClone(c, progress, signals_->stop()), "cutover clone");
    progress.Done(report);
  }

  bool Verify() {
    Title("cutover verify: compare every row while the load goes on");
    verify::VerifyOptions v;
    v.source = source_->RootEndpoint();
    v.target = target_->RootEndpoint();
    QuietVerify observer;
    auto report = Check(verify::RunVerify(v, observer, signals_->stop()), "cutover verify");
    uint64_t rows = 0;
    for (const auto& t : report.tables) {
      rows += t.rows;
      if (t.verdict != verify::Verdict::kIdentical) {
        fmt::print("  {}: {} ({} rows differ)\n", t.table, verify::VerdictName(t.verdict), t.differing_rows);
      }
    }
    fmt::print("  {}: {} tables, {} rows, {} comparison round(s)\n",
               report.identical() ? "identical" : "DIFFERENT", report.tables.size(), rows, report.rounds);
    return report.identical();
  }

  void Switchover() {
    Title("cutover switchover: the target becomes the primary, clients only pause");
    switchover::SwitchoverOptions s;
    s.source = {"source", source_->RootEndpoint(), source_->host(), source_->port()};
    s.target = {"target", target_->RootEndpoint(), target_->host(), target_->port()};
    s.repl_user = kReplUser;
    s.repl_password = kReplPassword;
    s.proxy = {"127.0.0.1", admin_->port(), "demo-token"};
    s.proxy_users.push_back({kAppUser, protocol::FormatNativePasswordHash(protocol::NativePasswordStage2(
                                           protocol::NativePasswordStage1(kAppPassword)))});
    s.state_file = dir_ + "/switchover.json";
    PrintSteps steps;
    auto report = Check(switchover::RunSwitchover(s, "target", steps), "cutover switchover");
    switch_pause_ms_ = report.client_pause_ms;
  }

  int Summarize(bool identical, Clock::time_point start) {
    Title("what the clients saw");
    auto r = Check(workload_->Check(target_->RootEndpoint()), "checking the workload against the new primary");
    uint64_t errors = r.error_count();
    fmt::print("  operations:          {} ({} appends, {} transfers, {} reads) by {} clients\n", r.operations,
               r.appends, r.transfers, r.reads, r.clients);
    fmt::print("  errors:              {}\n", errors);
    for (const auto& [key, n] : r.errors) fmt::print("    {} x {}\n", n, key);
    fmt::print("  longest operation:   {:.1f} ms (p50 {:.2f} ms, p99 {:.2f} ms)\n", r.longest_op_ms, r.p50_ms, r.p99_ms);
    fmt::print("  switchover pause:    {:.1f} ms at the proxy\n", switch_pause_ms_);
    fmt::print("  lost writes:         {} of {} acknowledged appends missing, {} duplicated\n", r.appends_missing,
               r.appends_acknowledged, r.appends_duplicated);
    fmt::print("  bank total:          {} (expected {})\n", r.bank_total_found, r.bank_total_expected);
    fmt::print("  checksums:           {}\n", identical ? "equal on every table" : "DIFFERENT");
    fmt::print("  demo took {:.0f} s\n", std::chrono::duration<double>(Clock::now() - start).count());
    const bool ok = r.ok() && identical;
    fmt::print("\n{}\n", ok ? "OK: the primary moved under load with no client error and no lost write."
                            : "NOT OK: see above.");
    return ok ? 0 : 1;
  }

  const DemoOptions options_;
  std::string dir_;
  std::unique_ptr<local::LocalServer> source_;
  std::unique_ptr<local::LocalServer> target_;
  std::unique_ptr<StopSignals> signals_;
  std::unique_ptr<proxy::ProxyServer> proxy_;
  std::unique_ptr<proxy::AdminApi> admin_;
  std::unique_ptr<workload::Workload> workload_;
  double switch_pause_ms_ = 0;
};

}  // namespace

int RunDemo(const DemoOptions& options) {
  // The demo tells its own story; the proxy's info lines would interleave with it.
  if (spdlog::get_level() < spdlog::level::warn) spdlog::set_level(spdlog::level::warn);
  // A failed step ends the demo: it throws DemoFailed, and ~Demo cleans up.
  try {
    Demo demo(options);
    return demo.Run();
  } catch (const DemoFailed& e) {
    fmt::print(stderr, "\ncutover demo: {}\n", e.what());
    return 2;
  }
}

}  // namespace cutover::cli
