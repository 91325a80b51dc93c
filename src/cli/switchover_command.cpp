#include "cli/switchover_command.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/config.h"
#include "protocol/auth.h"
#include "switchover/switchover.h"

namespace cutover::cli {
namespace {

// Fault hooks for the tests: CUTOVER_TEST_KILL_AFTER_STEP=<step> makes the
// process SIGKILL itself once that step has ended, as a crash would;
// CUTOVER_TEST_STOP_AFTER_STEP=<step> SIGSTOPs it there, as a hung process or
// a cut network would look (the test sends SIGCONT). So tests can stop an
// orchestrator at every step in turn.
const char* const kKillAfterStep = std::getenv("CUTOVER_TEST_KILL_AFTER_STEP");
const char* const kStopAfterStep = std::getenv("CUTOVER_TEST_STOP_AFTER_STEP");

class Timeline : public switchover::SwitchoverObserver {
 public:
  explicit Timeline(bool json) : json_(json) {}
  void Step(std::string_view name, std::string_view detail) override {
    if (json_) {
      fmt::print("{}\n", nlohmann::json{{"event", "step"}, {"step", name}, {"detail", detail}}.dump());
    } else {
      fmt::print("  {:<20} {}\n", name, detail);
    }
    std::fflush(stdout);
    if (kKillAfterStep != nullptr && name == kKillAfterStep) {
      fmt::print(stderr, "CUTOVER_TEST_KILL_AFTER_STEP: killed after step {}\n", name);
      ::kill(::getpid(), SIGKILL);
    }
    if (kStopAfterStep != nullptr && name == kStopAfterStep) {
      fmt::print(stderr, "CUTOVER_TEST_STOP_AFTER_STEP: stopped after step {}\n", name);
      ::kill(::getpid(), SIGSTOP);
    }
  }

 private:
  bool json_;
};

Result<switchover::SwitchoverOptions> BuildOptions(const SwitchoverCommandOptions& cmd) {
  auto config = LoadConfig(cmd.config_path, kSwitchoverNeeds);
  if (!config) return Fail(config.error());
  switchover::SwitchoverOptions o;
  const ServerConfig& s = *config->source;
  const ServerConfig& t = *config->target;
  const ReplicationConfig& r = *config->replication;
  o.source = {"source", s.ToEndpoint(), r.source_host.empty() ? s.host : r.source_host,
              r.source_port == 0 ? s.port : r.source_port};
  o.target = {"target", t.ToEndpoint(), r.target_host.empty() ? t.host : r.target_host,
              r.target_port == 0 ? t.port : r.target_port};
  o.repl_user = r.user;
  o.repl_password = r.password;
  const proxy::ProxyConfig& p = config->proxy;
  o.proxy = {p.admin_listen.host == "0.0.0.0" ? "127.0.0.1" : p.admin_listen.host, p.admin_listen.port, p.admin_token};
  for (const proxy::ProxyUser& u : p.users) {
    o.proxy_users.push_back({u.name, u.empty_password ? "" : protocol::FormatNativePasswordHash(u.stage2)});
  }
  const SwitchoverConfig& sw = config->switchover;
  for (const ServerConfig& r : sw.replicas) o.replicas.push_back(r.ToEndpoint());
  o.state_file = sw.state_file;
  o.max_lag_seconds = sw.max_lag_s;
  o.max_transaction_seconds = sw.max_transaction_s;
  o.drain_timeout = std::chrono::milliseconds(sw.drain_timeout_ms);
  o.catchup_timeout = std::chrono::milliseconds(sw.catchup_timeout_ms);
  o.max_pause = std::chrono::milliseconds(sw.max_pause_ms);
  o.gate_lag = std::chrono::milliseconds(sw.gate_lag_ms);
  o.gate_timeout = std::chrono::milliseconds(sw.gate_timeout_ms);
  o.attempts = static_cast<int>(sw.attempts);
  o.kill_open_transactions = cmd.kill_open_transactions;
  o.close_pinned = cmd.close_pinned;
  return o;
}

void PrintReport(const switchover::SwitchoverReport& r, bool json) {
  if (json) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& t : r.timeline) steps.push_back({{"step", t.name}, {"ms", t.ms}});
    fmt::print("{}\n", nlohmann::json{{"event", "done"}, {"from", r.from}, {"to", r.to}, {"final_gtid", r.final_gtid},
                                      {"client_pause_ms", r.client_pause_ms}, {"timeline", steps}}
                           .dump());
    return;
  }
  fmt::print("done: the {} is the primary; clients were paused {:.1f} ms; the {} follows it from GTID '{}'\n", r.to,
             r.client_pause_ms, r.from, r.final_gtid);
}

int Failed(const char* command, const Error& e, bool json) {
  if (json) {
    fmt::print("{}\n", nlohmann::json{{"event", "error"}, {"message", e.message()}}.dump());
  }
  fmt::print(stderr, "cutover {}: {}\n", command, e.message());
  return 2;
}

}  // namespace

int RunSwitchoverCommand(const SwitchoverCommandOptions& cmd, const std::string& to_role) {
  const char* name = to_role == "target" ? "switchover" : "rollback";
  auto options = BuildOptions(cmd);
  if (!options) return Failed(name, options.error(), cmd.json);
  Timeline timeline(cmd.json);
  if (cmd.abort) {
    if (Status st = switchover::AbortSwitchover(*options, timeline); !st) return Failed(name, st.error(), cmd.json);
    return 0;
  }
  auto report = cmd.resume ? switchover::ResumeSwitchover(*options, timeline)
                           : switchover::RunSwitchover(*options, to_role, timeline);
  if (!report) return Failed(name, report.error(), cmd.json);
  PrintReport(*report, cmd.json);
  return 0;
}

int RunFinishCommand(const SwitchoverCommandOptions& cmd) {
  auto options = BuildOptions(cmd);
  if (!options) return Failed("finish", options.error(), cmd.json);
  Timeline timeline(cmd.json);
  if (Status st = switchover::FinishMove(*options, timeline); !st) return Failed("finish", st.error(), cmd.json);
  return 0;
}

}  // namespace cutover::cli
