#include "workload/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace cutover::workload {

uint64_t WorkloadReport::error_count() const {
  uint64_t n = 0;
  for (const auto& [key, count] : errors) n += count;
  return n;
}

bool WorkloadReport::ok() const {
  return checked && errors.empty() && appends_missing == 0 && appends_duplicated == 0 && appends_unexpected == 0 &&
         bank_intact();
}

double Percentile(std::vector<float>& values, double p) {
  if (values.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(std::clamp<size_t>(rank, 1, values.size()) - 1);
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

void SummarizeLatencies(std::vector<std::vector<WindowSamples>> per_client, WorkloadReport& report) {
  size_t windows = 0;
  size_t samples = 0;
  for (const auto& client : per_client) {
    windows = std::max(windows, client.size());
    for (const auto& w : client) samples += w.latencies_ms.size();
  }
  std::vector<float> all;
  all.reserve(samples);
  report.windows.clear();
  for (size_t i = 0; i < windows; ++i) {
    WindowSamples merged;
    for (auto& client : per_client) {
      if (i >= client.size()) continue;
      WindowSamples& w = client[i];
      merged.ops += w.ops;
      merged.errors += w.errors;
      merged.latencies_ms.insert(merged.latencies_ms.end(), w.latencies_ms.begin(), w.latencies_ms.end());
      std::vector<float>().swap(w.latencies_ms);
    }
    WindowStats stats{.start_s = static_cast<double>(i) * std::chrono::duration<double>(kWindow).count(),
                      .ops = merged.ops,
                      .errors = merged.errors,
                      .p50_ms = 0,
                      .p99_ms = 0,
                      .max_ms = 0};
    if (!merged.latencies_ms.empty()) {
      stats.max_ms = *std::max_element(merged.latencies_ms.begin(), merged.latencies_ms.end());
      stats.p50_ms = Percentile(merged.latencies_ms, 0.50);
      stats.p99_ms = Percentile(merged.latencies_ms, 0.99);
    }
    report.windows.push_back(stats);
    all.insert(all.end(), merged.latencies_ms.begin(), merged.latencies_ms.end());
  }
  report.p50_ms = Percentile(all, 0.50);
  report.p99_ms = Percentile(all, 0.99);
}

std::string FormatSummary(const WorkloadReport& r) {
  std::string out;
  auto line = [&out](std::string_view text) {
    out += text;
    out += '\n';
  };
  const double rate = r.duration_s > 0 ? static_cast<double>(r.operations) / r.duration_s : 0.0;
  line(fmt::format("operations: {} in {:.1f}s with {} client(s), {:.0f}/s (appends {}, transfers {}, reads {})",
                   r.operations, r.duration_s, r.clients, rate, r.appends, r.transfers, r.reads));
  if (r.errors.empty()) {
    line("errors: none");
  } else {
    line(fmt::format("errors: {}", r.error_count()));
    for (const auto& [key, count] : r.errors) line(fmt::format("  {:>8}  {}", count, key));
  }
  line(fmt::format("longest operation (client-visible stall): {:.1f} ms", r.longest_op_ms));
  line(fmt::format("latency: p50 {:.2f} ms, p99 {:.2f} ms", r.p50_ms, r.p99_ms));
  if (!r.checked) {
    line("check: not run");
    return out;
  }
  // A duplicate may be of an append whose outcome was unknown; either way the
  // run failed, so the count only needs to stay honest, not exact.
  const uint64_t bad = std::min(r.appends_acknowledged, r.appends_missing + r.appends_duplicated);
  line(fmt::format("acknowledged appends present exactly once: {}/{}{}", r.appends_acknowledged - bad,
                   r.appends_acknowledged,
                   r.appends_missing + r.appends_duplicated == 0 ? "" : " - WRITES LOST OR DUPLICATED"));
  if (r.appends_missing > 0) line(fmt::format("  missing: {}", r.appends_missing));
  if (r.appends_duplicated > 0) line(fmt::format("  duplicated: {}", r.appends_duplicated));
  if (r.appends_unexpected > 0) {
    line(fmt::format("  present although the client was told they failed: {}", r.appends_unexpected));
  }
  if (r.appends_unknown > 0) {
    line(fmt::format("appends with unknown outcome (connection lost before the answer): {}, {} of them committed",
                     r.appends_unknown, r.appends_unknown_present));
  }
  line(fmt::format("bank total: expected {}, found {}{}", r.bank_total_expected, r.bank_total_found,
                   r.bank_intact() ? "" : " - MISMATCH"));
  line(r.ok() ? "result: OK" : "result: FAILED");
  return out;
}

}  // namespace cutover::workload
