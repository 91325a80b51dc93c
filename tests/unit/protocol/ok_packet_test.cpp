#include "protocol/ok_packet.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cutover::protocol {
namespace {

// OK packets captured from MariaDB 10.11.19 (127.0.0.1, --no-defaults):
// through a Python TCP relay in front of a libmariadb 3.3 C client, and from a
// Python raw-socket client that also set CLIENT_DEPRECATE_EOF. Both clients
// negotiated CLIENT_SESSION_TRACK. Payloads include the header byte.
constexpr Capabilities kTracked = captured::kLibmariadbCaps;
constexpr Capabilities kUntracked = captured::kLibmariadbCaps & ~capability::kSessionTrack;

struct Case {
  const char* name;
  const char* hex;
  OkPacket expected;
};

OkPacket Ok(uint64_t affected, uint64_t id, uint16_t flags, std::string info = "",
            std::optional<SessionStateChanges> state = std::nullopt) {
  return OkPacket{affected, id, flags, 0, std::move(info), std::move(state)};
}
SessionStateChanges Schema(std::string s) {
  SessionStateChanges c;
  c.schema = std::move(s);
  return c;
}
SessionStateChanges Var(std::string name, std::string value) {
  SessionStateChanges c;
  c.system_variables = {{std::move(name), std::move(value)}};
  return c;
}

const Case kCases[] = {
    // CREATE TABLE: nothing after the warnings, not even an empty info.
    {"CreateTable", "00000002000000", Ok(0, 0, status::kAutocommit)},
    {"InsertTwoRows",
     "00020102000000265265636f7264733a203220204475706c6963617465733a203020205761726e696e67733a2030",
     Ok(2, 1, status::kAutocommit, "Records: 2  Duplicates: 0  Warnings: 0")},
    {"UpdateNoIndex",
     "0002002200000028526f7773206d6174636865643a203220204368616e6765643a203220205761726e696e67733a2030",
     Ok(2, 0, status::kAutocommit | status::kNoIndexUsed, "Rows matched: 2  Changed: 2  Warnings: 0")},
    // Login with a database: the session state says which.
    {"LoginWithSchema", "0000000240000000080106056361706462",
     Ok(0, 0, status::kAutocommit | status::kSessionStateChanged, "", Schema("capdb"))},
    {"SetAutocommitOff", "000000004000000011000f0a6175746f636f6d6d6974034f4646",
     Ok(0, 0, status::kSessionStateChanged, "", Var("autocommit", "OFF"))},
    // SET @x = 1 with session_track_state_change=ON; autocommit was off.
    {"UserVariableSet", "000000004000000003020131",
     Ok(0, 0, status::kSessionStateChanged, "", [] {
       SessionStateChanges c;
       c.state_changed = true;
       return c;
     }())},
    {"Begin", "00000001000000", Ok(0, 0, status::kInTrans)},
    {"Commit", "00000000000000", Ok(0, 0, 0)},
    // After SET sql_mode='ANSI_QUOTES' MariaDB sets status bit 0x8000
    // (its SERVER_STATUS_ANSI_QUOTES), which MySQL does not have.
    {"SqlModeAnsiQuotes", "00000002c00000001700150873716c5f6d6f64650b414e53495f51554f544553",
     Ok(0, 0, 0x8000 | status::kAutocommit | status::kSessionStateChanged, "", Var("sql_mode", "ANSI_QUOTES"))},
    // The 0xFE-headed OK that ends a result set under CLIENT_DEPRECATE_EOF.
    {"EndOfResultSet", "fe000002000000", Ok(0, 0, status::kAutocommit)},
    {"EndOfFirstOfTwoResults", "fe00000a800000", Ok(0, 0, 0x8000 | status::kMoreResultsExist | status::kAutocommit)},
};

Result<OkPacket> Parse(ByteView payload, Capabilities caps) {
  ByteReader in(payload.subspan(1));
  return ParseOkPacket(in, caps);
}

TEST(OkPacketTest, ParsesCapturedPackets) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Bytes b = FromHex(c.hex);
    auto p = Parse(b, kTracked);
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_TRUE(*p == c.expected) << "info=" << p->info << " flags=" << p->status_flags;
  }
}

TEST(OkPacketTest, EveryTruncatedPrefixFailsOrIsTheInfoLessForm) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Bytes b = FromHex(c.hex);
    const ByteView payload = ByteView(b).subspan(1);
    for (size_t n = 0; n < payload.size(); ++n) {
      ByteReader in(payload.first(n));
      auto p = ParseOkPacket(in, kTracked);
      if (!p) {
        EXPECT_TRUE(IsTruncationError(p.error())) << n << ": " << p.error().message();
        continue;
      }
      // The protocol lets an OK end right after the warnings; that prefix is
      // a valid packet, but only when no session state was announced.
      EXPECT_EQ(n, 6u) << "prefix of " << n << " bytes parsed";
      EXPECT_FALSE(p->status_flags & status::kSessionStateChanged);
      EXPECT_TRUE(p->info.empty());
    }
  }
}

TEST(OkPacketTest, RoundTripMatchesCaptureBytes) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Bytes b = FromHex(c.hex);
    Bytes out;
    WriteOkPacket(c.expected, kTracked, b[0], out);
    EXPECT_EQ(HexString(out), c.hex);
    auto p = Parse(out, kTracked);
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_TRUE(*p == c.expected);
  }
}

TEST(OkPacketTest, RoundTripWithoutSessionTrack) {
  const OkPacket ok = Ok(300, 70000, status::kAutocommit, "Rows matched: 1");
  Bytes out;
  WriteOkPacket(ok, kUntracked, kOkHeader, out);
  EXPECT_EQ(HexString(out), "00fc2c01fd701101020000000f" + HexString(AsBytes("Rows matched: 1")));
  auto p = Parse(out, kUntracked);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_TRUE(*p == ok);
  // Every prefix is cut short, except the one that ends right after the
  // warnings (11 bytes): the info-less form.
  const ByteView payload = ByteView(out).subspan(1);
  for (size_t n = 0; n < payload.size(); ++n) {
    ByteReader in(payload.first(n));
    auto r = ParseOkPacket(in, kUntracked);
    if (n == 11) {
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_TRUE(r->info.empty());
      continue;
    }
    ASSERT_FALSE(r) << "prefix of " << n << " bytes parsed";
    EXPECT_TRUE(IsTruncationError(r.error())) << n << ": " << r.error().message();
  }
}

// MariaDB 10.11 to pymysql, which does not ask for CLIENT_SESSION_TRACK: the
// same bytes as with it, the info length-encoded. PHP's mysqlnd reads them so;
// writing the info raw made it fail on its first UPDATE ("RSET_HEADER packet
// additional data length is past 43 bytes the packet size").
TEST(OkPacketTest, InfoIsLengthEncodedWithoutSessionTrackToo) {
  const char* hex = "0002002200000028526f7773206d6174636865643a203220204368616e6765643a203220205761726e696e67733a2030";
  const Bytes b = FromHex(hex);
  auto p = Parse(b, kUntracked);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->info, "Rows matched: 2  Changed: 2  Warnings: 0");
  // What a tracked backend sends is rewritten for an untracked client byte for byte.
  auto tracked = Parse(b, kTracked);
  ASSERT_TRUE(tracked) << tracked.error().message();
  Bytes out;
  WriteOkPacket(*tracked, kUntracked, kOkHeader, out);
  EXPECT_EQ(HexString(out), hex);
}

TEST(OkPacketTest, WriterKeepsStateFlagInStepWithTheBlock) {
  OkPacket ok = Ok(0, 0, status::kAutocommit | status::kSessionStateChanged);  // flag without a block
  Bytes out;
  WriteOkPacket(ok, kTracked, kOkHeader, out);
  EXPECT_EQ(HexString(out), "00000002000000");
  ok = Ok(0, 0, status::kAutocommit, "", Schema("db"));  // block without the flag
  out.clear();
  WriteOkPacket(ok, kTracked, kOkHeader, out);
  auto p = Parse(out, kTracked);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->session_state->schema, "db");
}

TEST(OkPacketTest, RejectsTrailingBytes) {
  const char* bad[] = {
      "0000000200000000ff",                 // info "" then a stray byte, no state flag
      "0000000240000000080106056361706462ff",  // a byte after the session state
  };
  for (const char* hex : bad) {
    const Bytes b = FromHex(hex);
    auto p = Parse(b, kTracked);
    ASSERT_FALSE(p) << hex;
    EXPECT_EQ(p.error().code(), ErrorCode::kMalformed) << hex;
  }
}

}  // namespace
}  // namespace cutover::protocol
