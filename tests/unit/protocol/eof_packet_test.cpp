#include "protocol/eof_packet.h"

#include <gtest/gtest.h>

#include "protocol/constants.h"
#include "test_util.h"

namespace cutover::protocol {
namespace {

// EOF packets captured from MariaDB 10.11.19 on 127.0.0.1 through a Python
// relay in front of libmariadb 3.3, which does not set CLIENT_DEPRECATE_EOF.
// Payloads include the 0xFE header byte.
struct Case {
  const char* name;
  const char* hex;
  EofPacket expected;
};

const Case kCases[] = {
    // After the rows of "SELECT id, v FROM t" (autocommit, no index used).
    {"AfterRows", "fe00002200", {0, status::kAutocommit | status::kNoIndexUsed}},
    // After the parameter definitions of a COM_STMT_PREPARE.
    {"AfterParams", "fe00000000", {0, 0}},
    // After the rows of "SELECT 1" following COM_CHANGE_USER.
    {"AfterSelectOne", "fe00000200", {0, status::kAutocommit}},
    // "SELECT 1; SELECT 2" after SET sql_mode='ANSI_QUOTES' (Python raw-socket
    // client, libmariadb's flags): MariaDB sets 0x8000, its
    // SERVER_STATUS_ANSI_QUOTES; the first result's EOFs say more follow.
    {"MoreResults", "fe00000a80", {0, 0x8000 | status::kMoreResultsExist | status::kAutocommit}},
};

Result<EofPacket> Parse(ByteView payload) {
  ByteReader in(payload.subspan(1));
  return ParseEofPacket(in);
}

TEST(EofPacketTest, ParsesCapturedPackets) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    auto p = Parse(FromHex(c.hex));
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(p->warnings, c.expected.warnings);
    EXPECT_EQ(p->status_flags, c.expected.status_flags);
  }
}

TEST(EofPacketTest, EveryTruncatedPrefixFails) {
  for (const Case& c : kCases) {
    const Bytes b = FromHex(c.hex);
    ExpectPrefixesFail(ByteView(b).subspan(1), 4, [](ByteView v) {
      ByteReader in(v);
      return ParseEofPacket(in);
    });
  }
}

TEST(EofPacketTest, RoundTrip) {
  for (const Case& c : kCases) {
    Bytes out;
    WriteEofPacket(c.expected, out);
    EXPECT_EQ(HexString(out), c.hex);
    auto p = Parse(out);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->status_flags, c.expected.status_flags);
  }
  const EofPacket warned{3, status::kInTrans};
  Bytes out;
  WriteEofPacket(warned, out);
  auto p = Parse(out);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->warnings, 3);
  EXPECT_EQ(p->status_flags, status::kInTrans);
}

TEST(EofPacketTest, RejectsTrailingBytes) {
  // A 0xFE-headed OK (CLIENT_DEPRECATE_EOF) is not a classic EOF.
  auto p = Parse(FromHex("fe000002000000"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace cutover::protocol
