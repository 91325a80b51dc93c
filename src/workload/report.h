// What a workload run saw, and (after Workload::Check) whether the final
// primary holds every write the clients were told had succeeded.
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cutover::workload {

// Operations are grouped into windows of this length by the time they started.
inline constexpr std::chrono::milliseconds kWindow{100};

// One window. Latencies cover failed operations too: an error after a long
// wait is a stall as well.
struct WindowStats {
  double start_s;   // since the run started
  uint64_t ops;     // operations that started in the window and succeeded
  uint64_t errors;  // ... and failed
  double p50_ms, p99_ms, max_ms;
};

struct WorkloadReport {
  // Successful operations: operations == appends + transfers + reads.
  uint64_t operations = 0, appends = 0, transfers = 0, reads = 0;
  // Failed operations by ErrorKey(): "1927 <message prefix>", "2013 Lost
  // connection to server during query"; "consistency: ..." for a read that
  // saw a wrong bank total or missed the client's own acknowledged append.
  // Empty is the goal.
  std::map<std::string, uint64_t> errors;
  double longest_op_ms = 0;  // the client-visible stall
  double p50_ms = 0, p99_ms = 0;
  std::vector<WindowStats> windows;  // one per 100 ms, gaps included
  int clients = 0;
  double duration_s = 0;  // from the start to the last client's end

  // The check against the final primary.
  uint64_t appends_acknowledged = 0, appends_missing = 0, appends_duplicated = 0;
  uint64_t appends_unknown = 0;          // outcome unknown (connection lost mid-commit): present 0 or 1 times is fine
  uint64_t appends_unknown_present = 0;  // ... of which were found committed
  uint64_t appends_unexpected = 0;       // present although the client was told it failed
  int64_t bank_total_expected = 0, bank_total_found = 0;
  bool checked = false;

  uint64_t error_count() const;
  bool bank_intact() const { return bank_total_found == bank_total_expected; }
  // Checked, no error, nothing missing, duplicated or unexpected, bank intact.
  bool ok() const;
};

// Latencies of the operations that started in one window.
struct WindowSamples {
  std::vector<float> latencies_ms;
  uint64_t ops = 0;
  uint64_t errors = 0;
};

// The p-quantile (0 < p <= 1) of `values` by nearest rank; 0 when empty.
// Reorders `values`.
double Percentile(std::vector<float>& values, double p);

// Fills report.windows, p50_ms and p99_ms from each client's windows (entry
// i: the i-th window since the start), consuming them to bound peak memory.
void SummarizeLatencies(std::vector<std::vector<WindowSamples>> per_client, WorkloadReport& report);

// The report for people, several lines, ending in a newline.
std::string FormatSummary(const WorkloadReport& report);

}  // namespace cutover::workload
