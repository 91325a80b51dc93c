#include "protocol/session_state.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cutover::protocol {
namespace {

// Session-state blocks cut from OK packets that MariaDB 10.11.19 sent to a
// Python raw-socket client on 127.0.0.1 (CLIENT_SESSION_TRACK on, server
// defaults: session_track_schema=ON, session_track_system_variables=
// autocommit,character_set_*,time_zone). Each is the OK payload from the byte
// after the info (a lenenc "" the server always writes before the block).
struct Case {
  const char* name;
  const char* hex;
  SessionStateChanges expected;
};

SessionStateChanges Vars(std::vector<std::pair<std::string, std::string>> v) {
  SessionStateChanges s;
  s.system_variables = std::move(v);
  return s;
}
SessionStateChanges Schema(std::string s) {
  SessionStateChanges c;
  c.schema = std::move(s);
  return c;
}
SessionStateChanges StateChanged() {
  SessionStateChanges c;
  c.state_changed = true;
  return c;
}
SessionStateChanges Transaction(std::optional<std::string> state, std::optional<std::string> characteristics) {
  SessionStateChanges c;
  c.transaction_state = std::move(state);
  c.transaction_characteristics = std::move(characteristics);
  return c;
}

const Case kCases[] = {
    // Login with database "capdb".
    {"LoginSchema", "080106056361706462", Schema("capdb")},
    // SET NAMES utf8mb4: three entries, one variable each.
    {"SetNames",
     "620021186368617261637465725f7365745f636f6e6e656374696f6e07757466386d6234"
     "001d146368617261637465725f7365745f636c69656e7407757466386d6234"
     "001e156368617261637465725f7365745f726573756c747307757466386d6234",
     Vars({{"character_set_connection", "utf8mb4"},
           {"character_set_client", "utf8mb4"},
           {"character_set_results", "utf8mb4"}})},
    {"TimeZone", "1300110974696d655f7a6f6e65062b30313a3030", Vars({{"time_zone", "+01:00"}})},
    {"Autocommit", "11000f0a6175746f636f6d6d6974034f4646", Vars({{"autocommit", "OFF"}})},
    // SET @x = 1 with session_track_state_change=ON: the entry data is the
    // bare byte '1', not a lenenc string.
    {"StateChange", "03020131", StateChanged()},
    // SET session_track_transaction_info = 'CHARACTERISTICS': the variable,
    // then transaction state (type 5) and empty characteristics (type 4).
    {"TransactionInfoOn",
     "3f002f1e73657373696f6e5f747261636b5f7472616e73616374696f6e5f696e666f0f434841524143544552495354494353"
     "0509085f5f5f5f5f5f5f5f040100",
     [] {
       auto s = Transaction("________", "");
       s.system_variables = {{"session_track_transaction_info", "CHARACTERISTICS"}};
       return s;
     }()},
    // START TRANSACTION READ ONLY after SET TRANSACTION ISOLATION LEVEL SERIALIZABLE.
    {"StartTransactionReadOnly",
     "58050908545f5f5f5f5f5f5f044b4a534554205452414e53414354494f4e2049534f4c4154494f4e204c4556454c2053455249414c"
     "495a41424c453b205354415254205452414e53414354494f4e2052454144204f4e4c593b",
     Transaction("T_______",
                 "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE; START TRANSACTION READ ONLY;")},
};

TEST(SessionStateTest, ParsesCapturedBlocks) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Bytes b = FromHex(c.hex);
    ByteReader in(b);
    auto s = ParseSessionStateChanges(in);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_TRUE(*s == c.expected);
    EXPECT_TRUE(in.empty());
  }
}

TEST(SessionStateTest, EveryTruncatedPrefixFails) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Bytes b = FromHex(c.hex);
    ExpectPrefixesFail(b, b.size(), [](ByteView v) {
      ByteReader in(v);
      auto r = ParseSessionStateChanges(in);
      EXPECT_EQ(in.position(), 0u) << "a failed parse must not consume";
      return r;
    });
  }
}

TEST(SessionStateTest, RoundTrip) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Bytes out;
    ByteWriter w(out);
    WriteSessionStateChanges(c.expected, w);
    ByteReader in(out);
    auto s = ParseSessionStateChanges(in);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_TRUE(*s == c.expected);
    EXPECT_TRUE(in.empty());
  }
  // The captured single-entry blocks are reproduced byte for byte.
  for (size_t i : {0, 1, 2, 3, 4}) {
    Bytes out;
    ByteWriter w(out);
    WriteSessionStateChanges(kCases[i].expected, w);
    EXPECT_EQ(HexString(out), kCases[i].hex) << kCases[i].name;
  }
}

TEST(SessionStateTest, RoundTripEveryField) {
  SessionStateChanges s;
  s.system_variables = {{"sql_mode", "ANSI_QUOTES"}, {"long", std::string(300, 'v')}};
  s.schema = "";
  s.state_changed = true;
  s.gtids = {std::string("\x00\x05" "0-1-9", 7)};
  s.transaction_characteristics = "SET TRANSACTION READ ONLY;";
  s.transaction_state = "T_______";
  Bytes out;
  ByteWriter w(out);
  WriteSessionStateChanges(s, w);
  ByteReader in(out);
  auto back = ParseSessionStateChanges(in);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(*back == s);
}

TEST(SessionStateTest, SkipsUnknownEntryTypes) {
  // Type 0x2a with 3 bytes of data, then the schema entry.
  const Bytes b = FromHex("0d 2a03aabbcc 0106056361706462");
  ByteReader in(b);
  auto s = ParseSessionStateChanges(in);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->schema, "capdb");
}

TEST(SessionStateTest, AcceptsLenencStateChangeToo) {
  const Bytes b = FromHex("0402020131");
  ByteReader in(b);
  auto s = ParseSessionStateChanges(in);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->state_changed);
}

TEST(SessionStateTest, ConsumesOnlyTheBlock) {
  const Bytes b = FromHex("03020131 ff");
  ByteReader in(b);
  ASSERT_TRUE(ParseSessionStateChanges(in));
  EXPECT_EQ(in.remaining(), 1u);
}

TEST(SessionStateTest, RejectsEntriesThatOverrunTheBlock) {
  const char* bad[] = {
      "03020531",    // entry claims 5 bytes, the block holds 1
      "0401020031",  // schema entry: lenenc "" then a stray byte
      "06000401610500",  // variable entry: name "a", value says 5 bytes
      "0102",        // entry type, then the block ends before its length
  };
  for (const char* hex : bad) {
    const Bytes b = FromHex(hex);
    ByteReader in(b);
    auto s = ParseSessionStateChanges(in);
    ASSERT_FALSE(s) << hex;
    EXPECT_EQ(s.error().code(), ErrorCode::kMalformed) << hex;
  }
}

}  // namespace
}  // namespace cutover::protocol
