#include "protocol/handshake.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cutover::protocol {
namespace {

// Greetings captured from MariaDB 10.11.19 (Debian 12 package, --no-defaults,
// 127.0.0.1) by Python raw-socket and relay clients. The server version
// carries the "5.5.5-" prefix MariaDB adds for old clients; the capabilities
// lack CLIENT_MYSQL (bit 0), so the last 4 reserved bytes hold MariaDB's
// extended capabilities (0x1d). auth_plugin_data_len is 21 (20 + NUL).
struct Case {
  const char* name;
  const char* hex;
  uint32_t connection_id;
  const char* scramble_hex;
};

const Case kCases[] = {
    {"Connection4",
     "0a352e352e352d31302e31312e31392d4d6172696144422d302b6465623132753100040000006f45497d5c332a7500fef7080200ff"
     "81150000000000001d00000032375f577466216d256a6c5d006d7973716c5f6e61746976655f70617373776f726400",
     4, "6f45497d5c332a7532375f577466216d256a6c5d"},
    {"Connection15",
     "0a352e352e352d31302e31312e31392d4d6172696144422d302b64656231327531000f0000002160467c5e40666200fef7080200ff"
     "81150000000000001d00000038322e335224597768282a38006d7973716c5f6e61746976655f70617373776f726400",
     15, "2160467c5e40666238322e335224597768282a38"},
};

TEST(HandshakeTest, ParsesCapturedGreetings) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    auto h = ParseHandshakeV10(FromHex(c.hex));
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->protocol_version, 10);
    EXPECT_EQ(h->server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
    EXPECT_EQ(h->connection_id, c.connection_id);
    EXPECT_EQ(HexString(AsBytes(h->auth_plugin_data)), c.scramble_hex);
    EXPECT_EQ(h->capabilities, captured::kServerCaps | captured::kMariaDbExtendedCaps);
    EXPECT_EQ(h->character_set, 8);  // latin1_swedish_ci, the server default without a config file
    EXPECT_EQ(h->status_flags, status::kAutocommit);
    EXPECT_EQ(h->auth_plugin_name, kNativePasswordPlugin);
  }
}

TEST(HandshakeTest, CapturedServerCapabilities) {
  constexpr Capabilities caps = captured::kServerCaps;
  EXPECT_FALSE(caps & capability::kLongPassword);
  EXPECT_FALSE(caps & capability::kSsl);  // no TLS configured
  EXPECT_TRUE(caps & capability::kSessionTrack);
  EXPECT_TRUE(caps & capability::kDeprecateEof);
  EXPECT_TRUE(caps & capability::kPluginAuthLenencData);
  EXPECT_FALSE(caps & capability::kOptionalResultsetMetadata);
}

TEST(HandshakeTest, EveryTruncatedPrefixFails) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Bytes b = FromHex(c.hex);
    ExpectPrefixesFail(b, b.size(), [](ByteView v) { return ParseHandshakeV10(v); });
  }
}

TEST(HandshakeTest, RoundTripReproducesCapture) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    auto h = ParseHandshakeV10(FromHex(c.hex));
    ASSERT_TRUE(h);
    Bytes out;
    WriteHandshakeV10(*h, out);
    EXPECT_EQ(HexString(out), c.hex);
    auto back = ParseHandshakeV10(out);
    ASSERT_TRUE(back);
    EXPECT_TRUE(*back == *h);
  }
}

TEST(HandshakeTest, MySqlGreetingHasNoExtendedCapabilities) {
  HandshakeV10 h;
  h.server_version = "8.0.36";
  h.connection_id = 77;
  h.auth_plugin_data = "abcdefgh12345678ABCD";
  // The extended capabilities must not be written for a MySQL-style server.
  h.capabilities = captured::kServerCaps | capability::kLongPassword | captured::kMariaDbExtendedCaps;
  h.character_set = 255;
  h.auth_plugin_name = "caching_sha2_password";
  Bytes out;
  WriteHandshakeV10(h, out);
  auto back = ParseHandshakeV10(out);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->capabilities & capability::kMariaDbExtended, 0u);
  h.capabilities &= capability::kLowHalf;
  EXPECT_TRUE(*back == h);
}

TEST(HandshakeTest, ErrInsteadOfGreetingIsAServerError) {
  // Captured: MariaDB refusing a client that connected from 127.0.0.2.
  auto h = ParseHandshakeV10(FromHex(
      "ff6a04486f737420273132372e302e302e3227206973206e6f7420616c6c6f77656420746f20636f6e6e65637420746f2074686973"
      "204d61726961444220736572766572"));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code(), ErrorCode::kServer);
  EXPECT_EQ(h.error().server_errno(), 1130);
  EXPECT_EQ(h.error().message(), "Host '127.0.0.2' is not allowed to connect to this MariaDB server");
}

TEST(HandshakeTest, RejectsOtherProtocolVersionsAndTrailingBytes) {
  Bytes b = FromHex(kCases[0].hex);
  b.push_back(0);
  auto trailing = ParseHandshakeV10(b);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().code(), ErrorCode::kMalformed);
  b.pop_back();
  b[0] = 9;
  auto v9 = ParseHandshakeV10(b);
  ASSERT_FALSE(v9);
  EXPECT_EQ(v9.error().code(), ErrorCode::kUnsupported);
}

// Found by fuzz/handshake_fuzz.cpp: a greeting without CLIENT_PLUGIN_AUTH
// whose 13-byte scramble part 2 has no closing NUL parsed as a 21-byte
// scramble that WriteHandshakeV10 could not write back the same way (it wrote
// 14 bytes where readers take 13). Such a part 2 is now refused.
TEST(HandshakeTest, ScramblePart2WithoutNulIsMalformed) {
  auto h = ParseHandshakeV10(FromHex(
      "0a352e352e352d31302e31312e31392d4d6172002160467c5e40666200fef7080200ff811500000000352e352d31302e64313275316d00312e3139002d4d0061"));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code(), ErrorCode::kMalformed);
}

// Readers size part 2 by auth_plugin_data_len whenever it is set, so the
// writer sets it with CLIENT_SECURE_CONNECTION even without CLIENT_PLUGIN_AUTH.
TEST(HandshakeTest, RoundTripWithoutPluginAuth) {
  HandshakeV10 h;
  h.server_version = "5.5.5-10.11.19-MariaDB";
  h.connection_id = 9;
  h.auth_plugin_data = "abcdefgh0123456789ABCDEFGHIJ";  // 28 bytes: longer than the 20 of native passwords
  h.capabilities = (captured::kServerCaps & ~capability::kPluginAuth) | captured::kMariaDbExtendedCaps;
  Bytes out;
  WriteHandshakeV10(h, out);
  auto back = ParseHandshakeV10(out);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(*back == h);
}

}  // namespace
}  // namespace cutover::protocol
