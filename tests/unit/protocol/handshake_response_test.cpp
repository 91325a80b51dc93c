#include "protocol/handshake_response.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cutover::protocol {
namespace {

// The login libmariadb 3.3.20 (a C client, mysql_real_connect to capuser /
// "secret" / capdb with CLIENT_MULTI_STATEMENTS) sent to MariaDB 10.11.19,
// captured by a Python TCP relay on 127.0.0.1. CLIENT_MYSQL is clear, so the
// last 4 filler bytes hold the extended capabilities 0x1d. The token answers
// the scramble of handshake_test's "Connection4" greeting.
const char kLibmariadbLogin[] =
    "8ca2bf00000010002d000000000000000000000000000000000000001d00000063617075736572001410be53707c2709c20422b449b1"
    "43babf4e1ad97d6361706462006d7973716c5f6e61746976655f70617373776f7264006b035f6f73054c696e75780c5f636c6965"
    "6e745f6e616d650a6c69626d617269616462045f70696404343934360f5f636c69656e745f76657273696f6e06332e332e323009"
    "5f706c6174666f726d067838365f36340c5f7365727665725f686f7374093132372e302e302e31";

HandshakeResponse41 ExpectedLibmariadbLogin() {
  HandshakeResponse41 r;
  r.capabilities = captured::kLibmariadbCaps | captured::kMariaDbExtendedCaps;
  r.max_packet_size = 1 << 20;
  r.character_set = 45;  // utf8mb4_general_ci
  r.username = "capuser";
  r.auth_response = std::string(AsChars(FromHex("10be53707c2709c20422b449b143babf4e1ad97d")));
  r.database = "capdb";
  r.auth_plugin_name = kNativePasswordPlugin;
  r.attributes = {{"_os", "Linux"},           {"_client_name", "libmariadb"}, {"_pid", "4946"},
                  {"_client_version", "3.3.20"}, {"_platform", "x86_64"},       {"_server_host", "127.0.0.1"}};
  return r;
}

TEST(HandshakeResponseTest, ParsesCapturedLibmariadbLogin) {
  auto r = ParseHandshakeResponse41(FromHex(kLibmariadbLogin));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(*r == ExpectedLibmariadbLogin());
  EXPECT_FALSE(IsSslRequest(FromHex(kLibmariadbLogin)));
}

TEST(HandshakeResponseTest, CapturedClientCapabilities) {
  constexpr Capabilities caps = captured::kLibmariadbCaps;
  EXPECT_FALSE(caps & capability::kLongPassword);  // a MariaDB-extended client
  EXPECT_TRUE(caps & capability::kSessionTrack);
  EXPECT_FALSE(caps & capability::kDeprecateEof);  // libmariadb reads classic EOFs
  EXPECT_TRUE(caps & capability::kPluginAuthLenencData);
  EXPECT_TRUE(caps & capability::kConnectAttrs);
}

TEST(HandshakeResponseTest, EveryTruncatedPrefixFails) {
  const Bytes b = FromHex(kLibmariadbLogin);
  ExpectPrefixesFail(b, b.size(), [](ByteView v) { return ParseHandshakeResponse41(v); });
}

TEST(HandshakeResponseTest, RoundTripReproducesCapture) {
  Bytes out;
  WriteHandshakeResponse41(ExpectedLibmariadbLogin(), out);
  EXPECT_EQ(HexString(out), kLibmariadbLogin);
}

// Each way the auth response can be encoded, and the optional fields left out.
TEST(HandshakeResponseTest, RoundTripUnderOtherCapabilities) {
  using namespace capability;
  const Capabilities base = kProtocol41 | kLongPassword;
  const Capabilities variants[] = {
      base,                                                   // NUL-terminated auth response
      base | kSecureConnection,                               // 1-byte length
      base | kSecureConnection | kPluginAuthLenencData,       // lenenc
      base | kSecureConnection | kConnectWithDb | kPluginAuth | kConnectAttrs,
      captured::kLibmariadbCaps,
  };
  for (Capabilities caps : variants) {
    SCOPED_TRACE(caps);
    HandshakeResponse41 r;
    r.capabilities = (caps & kLongPassword) ? caps : caps | captured::kMariaDbExtendedCaps;
    r.max_packet_size = 0xffffff;
    r.character_set = 33;
    r.username = "app";
    r.auth_response = (caps & kSecureConnection) ? std::string("\x00\x01\x02\xff", 4) : "token";
    if (caps & kConnectWithDb) r.database = "shop";
    if (caps & kPluginAuth) r.auth_plugin_name = kNativePasswordPlugin;
    if (caps & kConnectAttrs) r.attributes = {{"_client_name", "cutover"}, {"empty", ""}};
    Bytes out;
    WriteHandshakeResponse41(r, out);
    auto back = ParseHandshakeResponse41(out);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_TRUE(*back == r);
    ExpectPrefixesFail(out, out.size(), [](ByteView v) { return ParseHandshakeResponse41(v); });
  }
}

TEST(HandshakeResponseTest, SslRequestIsTheFixedPartWithClientSsl) {
  Bytes login = FromHex(kLibmariadbLogin);
  Bytes ssl(login.begin(), login.begin() + 32);
  EXPECT_FALSE(IsSslRequest(ssl));  // CLIENT_SSL not set in the capture
  StoreU32(ssl.data(), captured::kLibmariadbCaps | capability::kSsl);
  EXPECT_TRUE(IsSslRequest(ssl));
  ssl.push_back(0);
  EXPECT_FALSE(IsSslRequest(ssl));
  EXPECT_FALSE(IsSslRequest({}));
}

TEST(HandshakeResponseTest, RejectsPre41ClientsAndTrailingBytes) {
  Bytes b = FromHex(kLibmariadbLogin);
  b.push_back(0);
  auto trailing = ParseHandshakeResponse41(b);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().code(), ErrorCode::kMalformed);
  b.pop_back();
  StoreU32(b.data(), captured::kLibmariadbCaps & ~capability::kProtocol41);
  auto old = ParseHandshakeResponse41(b);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), ErrorCode::kUnsupported);
}

TEST(HandshakeResponseTest, AttributesOverrunningTheirBlockAreMalformed) {
  const Bytes b = FromHex("04 03 5f6f73 05");  // key "_os", value says 5 bytes, block ends
  ByteReader in(b);
  auto a = ParseConnectAttributes(in);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace cutover::protocol
