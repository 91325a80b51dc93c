#include "cli/clone_progress.h"

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <fmt/format.h>

namespace cutover::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::string Bytes(uint64_t n) {
  if (n >= (1ull << 30)) return fmt::format("{:.1f} GiB", n / double(1ull << 30));
  if (n >= (1ull << 20)) return fmt::format("{:.1f} MiB", n / double(1ull << 20));
  return fmt::format("{:.1f} KiB", n / 1024.0);
}

std::string Duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  const auto s = static_cast<uint64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Totals {
  uint64_t rows = 0, bytes = 0, estimated = 0;
  size_t tables_done = 0;
};

Totals Sum(const std::deque<clone::TableProgress>& tables) {
  Totals t;
  for (const auto& p : tables) {
    const uint64_t rows = p.rows;
    t.rows += rows;
    t.bytes += p.bytes;
    // A finished table counts what it really had; the estimate may be off either way.
    t.estimated += p.done ? rows : std::max(p.estimated_rows, rows);
    t.tables_done += p.done ? 1 : 0;
  }
  return t;
}

// Percent done, never 100 before it is.
int Percent(uint64_t done, uint64_t estimated, bool finished) {
  if (finished) return 100;
  if (estimated == 0) return 0;
  return static_cast<int>(std::min<uint64_t>(99, done * 100 / estimated));
}

std::string Bar(int percent, int width = 24) {
  const int filled = percent * width / 100;
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

}  // namespace

OutputMode ChooseOutputMode(bool json, std::FILE* stream) {
  if (json) return OutputMode::kJson;
  return isatty(fileno(stream)) ? OutputMode::kTerminal : OutputMode::kPlain;
}

void CloneProgress::Step(std::string_view what) {
  std::lock_guard lock(mu_);
  if (mode_ == OutputMode::kJson) {
    fmt::print("{}\n", nlohmann::json{{"event", "step"}, {"message", what}, {"elapsed_s", Seconds(Clock::now() - start_)}}.dump());
  } else {
    fmt::print("[{:>6}] {}\n", Duration(Seconds(Clock::now() - start_)), what);
  }
  std::fflush(stdout);
}

void CloneProgress::Warning(std::string_view what) {
  std::lock_guard lock(mu_);
  if (mode_ == OutputMode::kJson) {
    fmt::print("{}\n", nlohmann::json{{"event", "warning"}, {"message", what}}.dump());
    std::fflush(stdout);
  } else {
    fmt::print(stderr, "warning: {}\n", what);
  }
}

void CloneProgress::CopyStarted(const std::deque<clone::TableProgress>& tables) {
  tables_ = &tables;
  copy_start_ = Clock::now();
  copying_ = true;
  display_ = std::jthread([this] { Loop(); });
}

void CloneProgress::CopyFinished() {
  if (!copying_.exchange(false)) return;
  display_.join();
  Render(true);
  tables_ = nullptr;
}

void CloneProgress::Loop() {
  const auto period = mode_ == OutputMode::kTerminal ? std::chrono::milliseconds(250)
                      : mode_ == OutputMode::kJson   ? std::chrono::milliseconds(1000)
                                                     : std::chrono::milliseconds(5000);
  auto next = Clock::now() + period;
  while (copying_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (Clock::now() < next) continue;
    next += period;
    Render(false);
  }
}

void CloneProgress::Render(bool final) {
  std::lock_guard lock(mu_);
  switch (mode_) {
    case OutputMode::kTerminal: RenderTerminal(final); break;
    case OutputMode::kPlain: RenderPlain(); break;
    case OutputMode::kJson: RenderJson(); break;
  }
  std::fflush(stdout);
}

void CloneProgress::RenderTerminal(bool final) {
  const double elapsed = Seconds(Clock::now() - copy_start_);
  std::string frame;
  // Redraw in place: move up over the previous frame, clear each line.
  if (drawn_lines_ > 0) frame += fmt::format("\x1b[{}F", drawn_lines_);
  int lines = 0;
  auto line = [&](const std::string& name, uint64_t rows, uint64_t estimated, uint64_t bytes, bool done) {
    const int pct = Percent(rows, estimated, done);
    const double rate = elapsed > 0 ? rows / elapsed : 0;
    const double eta = rate > 0 && estimated > rows ? (estimated - rows) / rate : 0;
    frame += fmt::format("\x1b[2K  {:<28.28} {} {:>3}% {:>11} rows {:>10} {:>9.0f} rows/s  {}\n", name, Bar(pct), pct,
                         rows, Bytes(bytes), rate, done ? "done" : "ETA " + Duration(eta));
    ++lines;
  };
  // Tables being copied, then a few finished or waiting ones, then the total.
  int shown = 0;
  for (const auto& p : *tables_) {
    if (shown >= 10) break;
    if (!final && (p.done || p.rows == 0)) continue;
    if (final && shown >= 10) break;
    line(p.name, p.rows, std::max(p.estimated_rows, p.rows.load()), p.bytes, p.done);
    ++shown;
  }
  const Totals t = Sum(*tables_);
  line(fmt::format("total ({}/{} tables)", t.tables_done, tables_->size()), t.rows, t.estimated, t.bytes,
       t.tables_done == tables_->size());
  // Clear lines the previous, taller frame left behind.
  for (int i = lines; i < drawn_lines_; ++i) frame += "\x1b[2K\n";
  lines = std::max(lines, drawn_lines_);
  drawn_lines_ = final ? 0 : lines;
  fmt::print("{}", frame);
}

void CloneProgress::RenderPlain() {
  const double elapsed = Seconds(Clock::now() - copy_start_);
  const Totals t = Sum(*tables_);
  const double rate = elapsed > 0 ? t.rows / elapsed : 0;
  const double eta = rate > 0 && t.estimated > t.rows ? (t.estimated - t.rows) / rate : 0;
  fmt::print("copy: {}% {}/{} rows, {}, {:.0f} rows/s, {}/{} tables done, ETA {}\n",
             Percent(t.rows, t.estimated, t.tables_done == tables_->size()), t.rows, t.estimated, Bytes(t.bytes),
             rate, t.tables_done, tables_->size(), Duration(eta));
}

void CloneProgress::RenderJson() {
  const Totals t = Sum(*tables_);
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& p : *tables_) {
    tables.push_back({{"table", p.name}, {"rows", p.rows.load()}, {"bytes", p.bytes.load()},
                      {"estimated_rows", p.estimated_rows}, {"chunks", p.chunks},
                      {"chunks_done", p.chunks_done.load()}, {"done", p.done.load()}});
  }
  fmt::print("{}\n", nlohmann::json{{"event", "progress"},
                                    {"rows", t.rows},
                                    {"bytes", t.bytes},
                                    {"estimated_rows", t.estimated},
                                    {"tables_done", t.tables_done},
                                    {"elapsed_s", Seconds(Clock::now() - copy_start_)},
                                    {"tables", tables}}
                         .dump());
}

void CloneProgress::Lag(const replication::LagSample& s) {
  std::lock_guard lock(mu_);
  const std::string behind = s.seconds_behind ? std::to_string(*s.seconds_behind) : "?";
  if (mode_ == OutputMode::kJson) {
    nlohmann::json j{{"event", "lag"}, {"source_gtid", s.source_gtid}, {"applied_gtid", s.applied_gtid},
                     {"caught_up", s.caught_up}};
    j["seconds_behind"] = s.seconds_behind ? nlohmann::json(*s.seconds_behind) : nlohmann::json();
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("replication: {} s behind, source at '{}', target applied '{}'{}\n", behind, s.source_gtid,
               s.applied_gtid, s.caught_up ? " - caught up" : "");
  }
  std::fflush(stdout);
}

void CloneProgress::Done(const clone::CloneReport& r) {
  std::lock_guard lock(mu_);
  const double copy_s = r.copy_time.count() / 1000.0;
  if (mode_ == OutputMode::kJson) {
    fmt::print("{}\n", nlohmann::json{{"event", "done"},
                                      {"adopted", r.adopted},
                                      {"gtid", r.gtid},
                                      {"snapshot_attempts", r.snapshot_attempts},
                                      {"tables", r.tables},
                                      {"rows", r.rows},
                                      {"bytes", r.bytes},
                                      {"copy_s", copy_s},
                                      {"total_s", r.total_time.count() / 1000.0},
                                      {"global_lock_ms", 0}}
                           .dump());
  } else if (r.adopted) {
    fmt::print("done: adopted the target as it replicates; total {}\n", Duration(r.total_time.count() / 1000.0));
  } else {
    fmt::print("done: {} tables, {} rows, {} copied in {} ({:.0f} rows/s); replication started at GTID '{}'; "
               "total {}; no global lock was taken\n",
               r.tables, r.rows, Bytes(r.bytes), Duration(copy_s), copy_s > 0 ? r.rows / copy_s : 0.0, r.gtid,
               Duration(r.total_time.count() / 1000.0));
  }
  std::fflush(stdout);
}

void CloneProgress::Failed(const Error& error) {
  std::lock_guard lock(mu_);
  if (mode_ == OutputMode::kJson) {
    fmt::print("{}\n", nlohmann::json{{"event", "error"},
                                      {"code", std::string(ErrorCodeName(error.code()))},
                                      {"message", error.message()}}
                           .dump());
    std::fflush(stdout);
  }
  fmt::print(stderr, "cutover clone: {}\n", error.message());
}

}  // namespace cutover::cli
