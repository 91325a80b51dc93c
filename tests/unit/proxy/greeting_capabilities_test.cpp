// What the proxy's greeting offers clients, given the primary's greeting.
#include <gtest/gtest.h>

#include "proxy/backend_connection.h"

namespace cutover::proxy {
namespace {

using namespace protocol::capability;

// MariaDB 10.11.19's greeting: CLIENT_MYSQL clear; extended PROGRESS,
// STMT_BULK_OPERATIONS, EXTENDED_METADATA and CACHE_METADATA.
constexpr protocol::Capabilities kMariaDb1011 = 0x81fff7feull | (0x1dull << 32);

TEST(GreetingCapabilitiesTest, MariaDbServerOffersTheExtensionsTheProxyCarries) {
  const protocol::Capabilities caps = GreetingCapabilities(kMariaDb1011);
  EXPECT_FALSE(caps & kLongPassword);  // so that MariaDB clients send theirs
  EXPECT_EQ(caps & kMariaDbExtended,
            kMariaDbProgress | kMariaDbStmtBulkOperations | kMariaDbExtendedMetadata | kMariaDbCacheMetadata);
  EXPECT_TRUE(caps & kSessionTrack);
  EXPECT_FALSE(caps & (kSsl | kCompress | kQueryAttributes | kOptionalResultsetMetadata));
}

TEST(GreetingCapabilitiesTest, ServerWithoutExtensionsKeepsClientMysql) {
  const protocol::Capabilities mysql = 0x81fff7feull | kLongPassword;
  EXPECT_EQ(GreetingCapabilities(mysql), kForwardableCapabilities & mysql);
  EXPECT_TRUE(GreetingCapabilities(mysql) & kLongPassword);
  // An older MariaDB with CLIENT_MYSQL clear but none of the carried extensions.
  const protocol::Capabilities old = 0x81fff7feull | kMariaDbComMulti;
  EXPECT_TRUE(GreetingCapabilities(old) & kLongPassword);
  EXPECT_EQ(GreetingCapabilities(old) & kMariaDbExtended, 0u);
}

TEST(GreetingCapabilitiesTest, UnknownServerGetsNoExtensions) {
  EXPECT_EQ(GreetingCapabilities(0), kForwardableCapabilities & kLowHalf);
  EXPECT_TRUE(GreetingCapabilities(0) & kLongPassword);
}

}  // namespace
}  // namespace cutover::proxy
