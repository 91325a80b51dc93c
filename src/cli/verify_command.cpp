#include "cli/verify_command.h"

#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/clone_progress.h"
#include "cli/config.h"
#include "cli/signals.h"

namespace cutover::cli {
namespace {

using Clock = std::chrono::steady_clock;

class VerifyProgress : public verify::VerifyObserver {
 public:
  explicit VerifyProgress(OutputMode mode) : mode_(mode) {}

  void Step(std::string_view what) override {
    EndLine();
    if (mode_ == OutputMode::kJson) {
      fmt::print("{}\n", nlohmann::json{{"event", "step"}, {"message", what}}.dump());
    } else {
      fmt::print("{}\n", what);
    }
    std::fflush(stdout);
  }
  void Warning(std::string_view what) override {
    EndLine();
    if (mode_ == OutputMode::kJson) fmt::print("{}\n", nlohmann::json{{"event", "warning"}, {"message", what}}.dump());
    else fmt::print(stderr, "warning: {}\n", what);
  }
  void Progress(size_t tables_done, size_t tables, uint64_t rows, size_t differing_chunks) override {
    const auto now = Clock::now();
    const auto period = mode_ == OutputMode::kTerminal ? std::chrono::milliseconds(250) : std::chrono::seconds(5);
    if (now - last_ < period) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (mode_ == OutputMode::kJson) {
      fmt::print("{}\n", nlohmann::json{{"event", "progress"}, {"tables_done", tables_done}, {"tables", tables},
                                        {"rows", rows}, {"differing_chunks", differing_chunks}}
                             .dump());
    } else {
      const std::string line =
          fmt::format("verify: {}/{} tables, {} rows compared ({:.0f} rows/s), {} differing chunk(s)", tables_done,
                      tables, rows, elapsed > 0 ? rows / elapsed : 0.0, differing_chunks);
      if (mode_ == OutputMode::kTerminal) {
        fmt::print("\r\x1b[2K{}", line);
        open_line_ = true;
      } else {
        fmt::print("{}\n", line);
      }
    }
    std::fflush(stdout);
  }
  void EndLine() {
    if (open_line_) fmt::print("\n");
    open_line_ = false;
  }

 private:
  const OutputMode mode_;
  const Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = Clock::now();
  bool open_line_ = false;
};

void PrintTable(const verify::VerifyReport& report) {
  size_t width = 5;
  for (const auto& t : report.tables) width = std::max(width, t.table.size());
  fmt::print("\n{:<{}}  {:>12}  {:>7}  {:>8}  {}\n", "table", width, "rows", "chunks", "time", "result");
  for (const auto& t : report.tables) {
    std::string result(verify::VerdictName(t.verdict));
    if (t.verdict == verify::Verdict::kDifferent) result += fmt::format(" ({} row(s))", t.differing_rows);
    if (t.keyless) result += " [no key: compared whole]";
    fmt::print("{:<{}}  {:>12}  {:>7}  {:>7.2f}s  {}\n", t.table, width, t.rows, t.chunks, t.seconds, result);
  }
  bool header = false;
  for (const auto& t : report.tables) {
    for (const auto& d : t.diffs) {
      if (!header) fmt::print("\ndiffering rows (primary key):\n");
      header = true;
      fmt::print("  {}  {}  {}\n", t.table, d.key, verify::DiffKindName(d.kind));
    }
    if (t.diffs.size() < t.differing_rows && !t.keyless) {
      fmt::print("  {}  ... and {} more\n", t.table, t.differing_rows - t.diffs.size());
    }
  }
  if (!report.errant_gtids.empty()) {
    fmt::print("\nerrant transaction(s) on the replica, never on the primary: {}\n", report.errant_gtids);
  }
  fmt::print("\n{}: {} table(s) in {:.1f}s, {} round(s), target replication paused at most {} ms per round\n",
             report.identical() ? "IDENTICAL" : "DIFFERENCES FOUND", report.tables.size(),
             report.total_time.count() / 1000.0, report.rounds, report.longest_replication_pause.count());
}

nlohmann::json ToJson(const verify::VerifyReport& report) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : report.tables) {
    nlohmann::json diffs = nlohmann::json::array();
    for (const auto& d : t.diffs) diffs.push_back({{"key", d.key}, {"kind", verify::DiffKindName(d.kind)}});
    tables.push_back({{"table", t.table}, {"result", verify::VerdictName(t.verdict)}, {"rows", t.rows},
                      {"chunks", t.chunks}, {"seconds", t.seconds}, {"keyless", t.keyless},
                      {"differing_rows", t.differing_rows}, {"differences", diffs}});
  }
  return {{"event", "report"},
          {"identical", report.identical()},
          {"rounds", report.rounds},
          {"errant_gtids", report.errant_gtids},
          {"longest_replication_pause_ms", report.longest_replication_pause.count()},
          {"total_s", report.total_time.count() / 1000.0},
          {"tables", tables}};
}

}  // namespace

int RunVerifyCommand(VerifyCommandOptions options) {
  auto config = LoadConfig(options.config_path, kSourceSection | kTargetSection);
  if (!config) {
    fmt::print(stderr, "cutover verify: {}\n", config.error().message());
    return 2;
  }
  if (options.verify.threads < 1 || options.verify.threads > 32) {
    fmt::print(stderr, "cutover verify: --threads must be between 1 and 32\n");
    return 2;
  }
  if (options.chunk_time_ms < 10) {
    fmt::print(stderr, "cutover verify: --chunk-time-ms must be at least 10\n");
    return 2;
  }
  // After a switchover the target is the primary: compare it with the old source.
  auto roles = ReadCurrentRoles(*config);
  if (!roles) {
    fmt::print(stderr, "cutover verify: {}\n", roles.error().message());
    return 2;
  }
  const ServerConfig& s = *roles->primary;
  const ServerConfig& t = *roles->replica;
  if (roles->swapped && !options.json) fmt::print("after the switchover: comparing the target (primary) with the source\n");
  options.verify.source = s.ToEndpoint();
  options.verify.target = t.ToEndpoint();
  options.verify.chunk_time = std::chrono::milliseconds(options.chunk_time_ms);
  StopSignals signals;
  const OutputMode mode = ChooseOutputMode(options.json, stdout);
  VerifyProgress progress(mode);
  auto report = verify::RunVerify(options.verify, progress, signals.stop());
  progress.EndLine();
  if (!report) {
    if (mode == OutputMode::kJson) {
      fmt::print("{}\n", nlohmann::json{{"event", "error"},
                                        {"code", std::string(ErrorCodeName(report.error().code()))},
                                        {"message", report.error().message()}}
                             .dump());
    }
    fmt::print(stderr, "cutover verify: could not finish: {}\n", report.error().message());
    return 2;
  }
  if (mode == OutputMode::kJson) fmt::print("{}\n", ToJson(*report).dump());
  else PrintTable(*report);
  return report->identical() ? 0 : 1;
}

}  // namespace cutover::cli
