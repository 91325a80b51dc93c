#include "protocol/err_packet.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cutover::protocol {
namespace {

// ERR packets captured from MariaDB 10.11.19 on 127.0.0.1, with a Python
// raw-socket client and through a Python relay in front of libmariadb.
// Payloads include the 0xFF header byte.
struct Case {
  const char* name;
  const char* hex;
  uint16_t error_code;
  const char* sql_state;
  const char* message;
  size_t message_offset;  // payload offset where the message starts
};

const Case kCases[] = {
    {"NoSuchTable",
     "ff7a042334325330325461626c65202763617064622e6e6f5f737563685f7461626c652720646f65736e2774206578697374", 1146,
     "42S02", "Table 'capdb.no_such_table' doesn't exist", 9},
    {"AccessDenied",
     "ff15042332383030304163636573732064656e69656420666f7220757365722027636170757365722740276c6f63616c686f73"
     "742720287573696e672070617373776f72643a2059455329",
     1045, "28000", "Access denied for user 'capuser'@'localhost' (using password: YES)", 9},
    // A login whose announced CLIENT_CONNECT_ATTRS had no attributes.
    {"BadHandshake", "ff13042330385330314261642068616e647368616b65", 1043, "08S01", "Bad handshake", 9},
    // Sent instead of the greeting to a client connecting from 127.0.0.2: no
    // '#' and SQLSTATE before the handshake.
    {"HostNotAllowed",
     "ff6a04486f737420273132372e302e302e3227206973206e6f7420616c6c6f77656420746f20636f6e6e65637420746f2074686973"
     "204d61726961444220736572766572",
     1130, "HY000", "Host '127.0.0.2' is not allowed to connect to this MariaDB server", 3},
};

Result<ErrPacket> Parse(ByteView payload) {
  ByteReader in(payload.subspan(1));
  return ParseErrPacket(in);
}

TEST(ErrPacketTest, ParsesCapturedPackets) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Bytes b = FromHex(c.hex);
    auto p = Parse(b);
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(p->error_code, c.error_code);
    EXPECT_EQ(p->sql_state, c.sql_state);
    EXPECT_EQ(p->message, c.message);
  }
}

TEST(ErrPacketTest, EveryTruncatedPrefixOfTheFixedPartFails) {
  // The message runs to the end of the packet, so a cut inside it cannot be
  // told from a shorter message; the code and the SQLSTATE can be checked.
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Bytes b = FromHex(c.hex);
    const size_t fixed_end = c.message_offset == 9 ? 8 : 2;  // payload after the header
    ExpectPrefixesFail(ByteView(b).subspan(1), fixed_end, [](ByteView v) {
      ByteReader in(v);
      return ParseErrPacket(in);
    });
  }
}

TEST(ErrPacketTest, RoundTrip) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    ErrPacket p{c.error_code, c.sql_state, c.message};
    Bytes out;
    WriteErrPacket(p, out);
    if (c.message_offset == 9) {
      EXPECT_EQ(HexString(out), c.hex);  // the writer always adds the marker
    }
    auto back = Parse(out);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->error_code, p.error_code);
    EXPECT_EQ(back->sql_state, p.sql_state);
    EXPECT_EQ(back->message, p.message);
  }
}

TEST(ErrPacketTest, ProgressReportIsUnsupported) {
  // MariaDB progress report: 0xFFFF, then stage data; not an error.
  const Bytes b = FromHex("ffffff0101020304056c6f6164");
  auto p = Parse(b);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace cutover::protocol
