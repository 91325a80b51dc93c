#include "workload/report.h"

#include <gtest/gtest.h>

namespace cutover::workload {
namespace {

TEST(PercentileTest, NearestRank) {
  std::vector<float> v;
  for (int i = 100; i >= 1; --i) v.push_back(static_cast<float>(i));
  EXPECT_EQ(Percentile(v, 0.50), 50);
  EXPECT_EQ(Percentile(v, 0.99), 99);
  EXPECT_EQ(Percentile(v, 1.0), 100);
  std::vector<float> one{7};
  EXPECT_EQ(Percentile(one, 0.5), 7);
  std::vector<float> none;
  EXPECT_EQ(Percentile(none, 0.5), 0);
}

TEST(SummarizeLatenciesTest, MergesClientsPerWindowAndKeepsGaps) {
  std::vector<std::vector<WindowSamples>> clients(2);
  clients[0] = {{.latencies_ms = {1, 2}, .ops = 2}, {}, {.latencies_ms = {900}, .ops = 0, .errors = 1}};
  clients[1] = {{.latencies_ms = {3}, .ops = 1}};
  WorkloadReport report;
  SummarizeLatencies(std::move(clients), report);
  ASSERT_EQ(report.windows.size(), 3u);
  EXPECT_EQ(report.windows[0].ops, 3u);
  EXPECT_EQ(report.windows[0].p50_ms, 2);
  EXPECT_EQ(report.windows[0].max_ms, 3);
  EXPECT_DOUBLE_EQ(report.windows[1].start_s, 0.1);
  EXPECT_EQ(report.windows[1].ops, 0u);  // the stall: nothing started here
  EXPECT_EQ(report.windows[1].max_ms, 0);
  EXPECT_EQ(report.windows[2].errors, 1u);
  EXPECT_EQ(report.windows[2].max_ms, 900);
  EXPECT_EQ(report.p50_ms, 2);
  EXPECT_EQ(report.p99_ms, 900);
}

TEST(WorkloadReportTest, OkNeedsACleanCheck) {
  WorkloadReport r;
  r.bank_total_expected = r.bank_total_found = 1000;
  EXPECT_FALSE(r.ok());  // not checked
  r.checked = true;
  EXPECT_TRUE(r.ok());
  r.appends_unknown = 3;  // unknown outcomes alone are fine
  EXPECT_TRUE(r.ok());
  for (auto spoil :
       {+[](WorkloadReport& x) { x.errors["2013 Lost connection to server during query"] = 1; },
        +[](WorkloadReport& x) { x.appends_missing = 1; }, +[](WorkloadReport& x) { x.appends_duplicated = 1; },
        +[](WorkloadReport& x) { x.appends_unexpected = 1; }, +[](WorkloadReport& x) { x.bank_total_found = 999; }}) {
    WorkloadReport bad = r;
    spoil(bad);
    EXPECT_FALSE(bad.ok());
  }
}

TEST(FormatSummaryTest, SaysWhatWasChecked) {
  WorkloadReport r;
  r.checked = true;
  r.appends_acknowledged = 10;
  r.appends_missing = 1;
  r.bank_total_expected = 1000;
  r.bank_total_found = 1001;
  const std::string text = FormatSummary(r);
  EXPECT_NE(text.find("present exactly once: 9/10"), std::string::npos) << text;
  EXPECT_NE(text.find("expected 1000, found 1001 - MISMATCH"), std::string::npos) << text;
  EXPECT_NE(text.find("result: FAILED"), std::string::npos) << text;
}

}  // namespace
}  // namespace cutover::workload
