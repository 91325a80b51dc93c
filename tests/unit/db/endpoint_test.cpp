#include "db/endpoint.h"

#include <gtest/gtest.h>

namespace cutover::db {
namespace {

using std::chrono::seconds;

TEST(EndpointTest, ToStringBracketsIpv6Literals) {
  EXPECT_EQ((Endpoint{.host = "10.0.0.5", .port = 3306}).ToString(), "10.0.0.5:3306");
  EXPECT_EQ((Endpoint{.host = "::1", .port = 3307}).ToString(), "[::1]:3307");
}

TEST(DataReadTimeoutTest, FourTimesTheTimeoutPlusASecondPerEightMiBReadBeforeTheAnswer) {
  const Endpoint server{.host = "h", .timeout = seconds(30)};
  EXPECT_EQ(DataReadTimeout(server, 0), seconds(120));
  EXPECT_EQ(DataReadTimeout(server, 1), seconds(121));  // rounded up
  EXPECT_EQ(DataReadTimeout(server, 8 << 20), seconds(121));
  // A 100 GiB keyless table checksummed in one statement: 12,800 s more.
  EXPECT_EQ(DataReadTimeout(server, uint64_t{100} << 30), seconds(120 + 12800));
  EXPECT_EQ(DataReadTimeout(Endpoint{.timeout = seconds(2)}, 4 << 20), seconds(9));
}

}  // namespace
}  // namespace cutover::db
