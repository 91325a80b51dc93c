#include "workload/ledger.h"

#include <gtest/gtest.h>

namespace cutover::workload {
namespace {

using enum AppendOutcome;

// Client 1 made appends 101..105 (the run's base was 100).
AppendLedger Ledger() {
  return {
      .client = 1, .first_seq = 101, .outcomes = {kAcknowledged, kAcknowledged, kUnknown, kRejected, kAcknowledged}};
}

TEST(AppendCheckerTest, EveryAcknowledgedAppendOnceIsClean) {
  const AppendLedger ledger = Ledger();
  AppendChecker checker({&ledger});
  for (int64_t seq : {101, 102, 105}) checker.Found(1, seq, 1);
  const AppendCheck c = checker.Finish();
  EXPECT_EQ(c.acknowledged, 3u);
  EXPECT_EQ(c.missing, 0u);
  EXPECT_EQ(c.duplicated, 0u);
  EXPECT_EQ(c.unknown, 1u);
  EXPECT_EQ(c.unknown_present, 0u);
  EXPECT_EQ(c.unexpected, 0u);
}

TEST(AppendCheckerTest, UnknownOutcomeMayBePresent) {
  const AppendLedger ledger = Ledger();
  AppendChecker checker({&ledger});
  for (int64_t seq : {101, 102, 103, 105}) checker.Found(1, seq, 1);
  const AppendCheck c = checker.Finish();
  EXPECT_EQ(c.unknown_present, 1u);
  EXPECT_EQ(c.missing + c.duplicated + c.unexpected, 0u);
}

TEST(AppendCheckerTest, FindsMissingDuplicatedAndUnexpected) {
  const AppendLedger ledger = Ledger();
  AppendChecker checker({&ledger});
  checker.Found(1, 101, 2);  // duplicated
  // 102 missing
  checker.Found(1, 104, 1);  // rejected, yet present
  checker.Found(1, 105, 1);
  checker.Found(1, 106, 1);  // never attempted
  checker.Found(2, 101, 1);  // no such client
  const AppendCheck c = checker.Finish();
  EXPECT_EQ(c.missing, 1u);
  EXPECT_EQ(c.duplicated, 1u);
  EXPECT_EQ(c.unexpected, 3u);
}

TEST(AppendLedgerTest, AcknowledgedSeqSkipsOtherOutcomes) {
  const AppendLedger ledger{.client = 1, .first_seq = 11, .outcomes = {kRejected, kUnknown, kAcknowledged, kRejected}};
  for (uint64_t r = 0; r < 8; ++r) EXPECT_EQ(ledger.AcknowledgedSeq(r), 13) << r;
  EXPECT_EQ(ledger.NextSeq(), 15);
  EXPECT_EQ(AppendLedger{}.AcknowledgedSeq(3), 0);
}

}  // namespace
}  // namespace cutover::workload
