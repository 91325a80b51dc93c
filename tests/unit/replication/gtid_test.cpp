#include "replication/gtid.h"

#include <gtest/gtest.h>

namespace cutover::replication {
namespace {

TEST(GtidTest, ParsesWhatMariadbPrints) {
  struct Case {
    const char* name;
    const char* text;
    std::vector<Gtid> gtids;
  };
  const Case cases[] = {
      {"empty", "", {}},
      {"one", "0-1-42", {{0, 1, 42}}},
      {"several domains", "0-1-42,1-2-7", {{0, 1, 42}, {1, 2, 7}}},
      {"SHOW SLAVE STATUS wraps with newlines", "0-1-42,\n1-2-7", {{0, 1, 42}, {1, 2, 7}}},
      {"largest numbers", "4294967295-4294967295-18446744073709551615",
       {{4294967295u, 4294967295u, 18446744073709551615ull}}},
  };
  for (const auto& c : cases) {
    auto parsed = ParseGtidList(c.text);
    ASSERT_TRUE(parsed) << c.name << ": " << parsed.error().message();
    EXPECT_EQ(*parsed, c.gtids) << c.name;
    EXPECT_EQ(*ParseGtidList(FormatGtidList(*parsed)), c.gtids) << c.name << " (round trip)";
  }
}

TEST(GtidTest, RefusesWhatIsNotAGtid) {
  for (const char* text : {"0-1", "0-1-", "a-1-2", "0-1-2-3", "0--2", "-1-2-3", "0-1-2,,0-2-3", "0-1-99999999999999999999",
                           "0-4294967296-1", " , "}) {
    auto parsed = ParseGtidList(text);
    EXPECT_FALSE(parsed) << text;
    if (!parsed) {
      EXPECT_EQ(parsed.error().code(), ErrorCode::kMalformed) << text;
    }
  }
}

TEST(GtidTest, UncoveredGtidsAreWhatOnlyOneServerWrote) {
  const auto state = [](const char* text) { return *ParseGtidList(text); };
  // A replica that applied everything and wrote nothing of its own.
  EXPECT_TRUE(UncoveredGtids(state("0-1-100"), state("0-1-100")).empty());
  // A replica that lags is not errant.
  EXPECT_TRUE(UncoveredGtids(state("0-1-90"), state("0-1-100")).empty());
  // A user created on the target by hand before the clone (the case).
  EXPECT_EQ(FormatGtidList(UncoveredGtids(state("0-62-7,0-1-100"), state("0-1-100"))), "0-62-7");
  // After a move the new primary's own transactions are in both states.
  EXPECT_TRUE(UncoveredGtids(state("0-1-100,0-2-150"), state("0-1-100,0-2-160")).empty());
  // A privileged write on the old primary after its final position.
  EXPECT_EQ(FormatGtidList(UncoveredGtids(state("0-1-151,0-2-150"), state("0-1-100,0-2-150"))), "0-1-151");
  // Another domain counts too.
  EXPECT_EQ(FormatGtidList(UncoveredGtids(state("0-1-100,5-1-3"), state("0-1-100"))), "5-1-3");
}

}  // namespace
}  // namespace cutover::replication
