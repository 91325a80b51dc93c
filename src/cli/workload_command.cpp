#include "cli/workload_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/signals.h"

namespace cutover::workload {

nlohmann::json ToJson(const WorkloadReport& r) {
  nlohmann::json windows = nlohmann::json::array();
  for (const WindowStats& w : r.windows) {
    windows.push_back({{"start_s", w.start_s},
                       {"ops", w.ops},
                       {"errors", w.errors},
                       {"p50_ms", w.p50_ms},
                       {"p99_ms", w.p99_ms},
                       {"max_ms", w.max_ms}});
  }
  nlohmann::json j{{"ok", r.ok()},
                   {"operations", r.operations},
                   {"appends", r.appends},
                   {"transfers", r.transfers},
                   {"reads", r.reads},
                   {"clients", r.clients},
                   {"duration_s", r.duration_s},
                   {"errors", nlohmann::json::object()},
                   {"error_count", r.error_count()},
                   {"longest_op_ms", r.longest_op_ms},
                   {"p50_ms", r.p50_ms},
                   {"p99_ms", r.p99_ms},
                   {"checked", r.checked}};
  for (const auto& [key, count] : r.errors) j["errors"][key] = count;
  if (r.checked) {
    j["check"] = {{"appends_acknowledged", r.appends_acknowledged},       {"appends_missing", r.appends_missing},
                  {"appends_duplicated", r.appends_duplicated},           {"appends_unknown", r.appends_unknown},
                  {"appends_unknown_present", r.appends_unknown_present}, {"appends_unexpected", r.appends_unexpected},
                  {"bank_total_expected", r.bank_total_expected},         {"bank_total_found", r.bank_total_found}};
  }
  j["windows"] = std::move(windows);
  return j;
}

}  // namespace cutover::workload

namespace cutover::cli {
namespace {

using Clock = std::chrono::steady_clock;

Result<workload::WorkloadOptions> MakeOptions(const WorkloadCommandOptions& o) {
  workload::WorkloadOptions w;
  std::string password = o.password;
  if (!o.password_env.empty()) {
    const char* value = std::getenv(o.password_env.c_str());
    if (value == nullptr) {
      return Fail(Error::Config(fmt::format("--password-env: environment variable {} is not set", o.password_env)));
    }
    password = value;
  }
  w.endpoint = {o.host, o.port, o.user, password};
  if (!(o.duration_s >= 0)) return Fail(Error::Config("--duration must not be negative"));
  w.clients = o.clients;
  w.duration = std::chrono::milliseconds(static_cast<int64_t>(o.duration_s * 1000));
  w.rate = o.rate;
  w.schema = o.schema;
  w.accounts = o.accounts;
  w.initial_balance = o.initial_balance;
  w.append_percent = o.append_percent;
  w.transfer_percent = o.transfer_percent;
  return w;
}

void PrintError(bool json, const Error& e, std::string_view doing) {
  if (json) {
    fmt::print("{}\n",
               nlohmann::json{{"event", "error"},
                              {"code", std::string(ErrorCodeName(e.code()))},
                              {"message", doing.empty() ? e.message() : fmt::format("{}: {}", doing, e.message())}}
                   .dump());
    std::fflush(stdout);
  }
  if (doing.empty())
    fmt::print(stderr, "cutover workload: {}\n", e.message());
  else
    fmt::print(stderr, "cutover workload: {}: {}\n", doing, e.message());
}

void PrintProgress(bool json, double elapsed_s, double ops_per_s, const workload::Workload& w) {
  if (json) {
    fmt::print("{}\n", nlohmann::json{{"event", "progress"},
                                      {"elapsed_s", elapsed_s},
                                      {"ops_per_s", ops_per_s},
                                      {"operations", w.operations()},
                                      {"errors", w.error_count()},
                                      {"longest_op_ms", w.longest_op_ms()}}
                           .dump());
  } else {
    fmt::print("{:6.1f}s  {:8.0f} ops/s  {} operations  {} errors  longest stall {:.1f} ms\n", elapsed_s, ops_per_s,
               w.operations(), w.error_count(), w.longest_op_ms());
  }
  std::fflush(stdout);
}

// Shows one line a second until the clients end or a signal arrives.
void Follow(bool json, const workload::Workload& w, const std::atomic<bool>& stop) {
  const Clock::time_point start = Clock::now();
  Clock::time_point last = start;
  uint64_t last_ops = 0;
  while (w.running() && !stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const Clock::time_point now = Clock::now();
    if (now - last < std::chrono::seconds(1)) continue;
    const uint64_t ops = w.operations();
    const double ops_per_s = static_cast<double>(ops - last_ops) / std::chrono::duration<double>(now - last).count();
    PrintProgress(json, std::chrono::duration<double>(now - start).count(), ops_per_s, w);
    last = now;
    last_ops = ops;
  }
}

}  // namespace

int RunWorkloadCommand(const WorkloadCommandOptions& options) {
  auto made = MakeOptions(options);
  if (!made) {
    PrintError(options.json, made.error(), "bad options");
    return 2;
  }
  const workload::WorkloadOptions& w = *made;
  if (!options.password.empty() && options.password_env.empty()) {
    fmt::print(stderr, "warning: --password is visible to other users in ps; prefer --password-env\n");
  }
  // Before any thread starts, so that every thread inherits the blocked signals.
  StopSignals signals;
  if (options.setup) {
    if (!options.json) {
      fmt::print("setting up schema {} on {}: {} accounts of {}\n", w.schema, w.endpoint.ToString(), w.accounts,
                 w.initial_balance);
    }
    if (Status st = workload::Setup(w.endpoint, w, /*recreate=*/true); !st) {
      PrintError(options.json, st.error(), "setting up the schema");
      return 2;
    }
  }
  workload::Workload load(w);
  if (Status st = load.Start(); !st) {
    PrintError(options.json, st.error(), "starting the clients");
    return 2;
  }
  if (!options.json) {
    fmt::print("{} client(s) through {}, {}, {}\n", w.clients, w.endpoint.ToString(),
               w.rate > 0 ? fmt::format("{:g} ops/s", w.rate) : std::string("flat out"),
               w.duration.count() > 0 ? fmt::format("for {:g}s (Ctrl-C stops early)", options.duration_s)
                                      : std::string("until Ctrl-C"));
    std::fflush(stdout);
  }
  Follow(options.json, load, signals.stop());
  load.Stop();

  workload::WorkloadReport report;
  if (options.no_check) {
    report = load.Report();
  } else {
    db::Endpoint check = w.endpoint;
    if (!options.check_host.empty()) check.host = options.check_host;
    if (options.check_port != 0) check.port = options.check_port;
    if (!options.json) fmt::print("checking against {}\n", check.ToString());
    auto checked = load.Check(check);
    if (!checked) {
      PrintError(options.json, checked.error(), "");
      return 2;
    }
    report = std::move(*checked);
  }
  if (options.json) {
    nlohmann::json j = workload::ToJson(report);
    j["event"] = "report";
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("\n{}", workload::FormatSummary(report));
  }
  std::fflush(stdout);
  if (options.no_check) return report.errors.empty() ? 0 : 1;
  return report.ok() ? 0 : 1;
}

}  // namespace cutover::cli
