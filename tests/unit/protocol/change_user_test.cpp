#include "protocol/change_user.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cutover::protocol {
namespace {

// COM_CHANGE_USER that libmariadb 3.3.20 (mysql_change_user to capuser /
// "secret" / capdb) sent to MariaDB 10.11.19, captured by a Python TCP relay
// on 127.0.0.1. The token answers the connection's original scramble; the
// server still replied with an AuthSwitchRequest for mysql_native_password
// carrying that same scramble (see auth_test).
const char kLibmariadbChangeUser[] =
    "1163617075736572001410be53707c2709c20422b449b143babf4e1ad97d6361706462002d006d7973716c5f6e61746976655f7061"
    "7373776f7264006b035f6f73054c696e75780c5f636c69656e745f6e616d650a6c69626d617269616462045f7069640434393436"
    "0f5f636c69656e745f76657273696f6e06332e332e3230095f706c6174666f726d067838365f36340c5f7365727665725f686f73"
    "74093132372e302e302e31";

constexpr Capabilities kCaps = captured::kLibmariadbCaps;  // also what was negotiated

ChangeUser Expected() {
  ChangeUser c;
  c.username = "capuser";
  c.auth_response = std::string(AsChars(FromHex("10be53707c2709c20422b449b143babf4e1ad97d")));
  c.database = "capdb";
  c.character_set = 45;
  c.auth_plugin_name = kNativePasswordPlugin;
  c.attributes = {{"_os", "Linux"},           {"_client_name", "libmariadb"}, {"_pid", "4946"},
                  {"_client_version", "3.3.20"}, {"_platform", "x86_64"},       {"_server_host", "127.0.0.1"}};
  return c;
}

TEST(ChangeUserTest, ParsesCapturedPacket) {
  auto c = ParseChangeUser(FromHex(kLibmariadbChangeUser), kCaps);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(*c == Expected());
}

TEST(ChangeUserTest, EveryTruncatedPrefixFails) {
  const Bytes b = FromHex(kLibmariadbChangeUser);
  ExpectPrefixesFail(b, b.size(), [](ByteView v) { return ParseChangeUser(v, kCaps); });
}

TEST(ChangeUserTest, RoundTripReproducesCapture) {
  Bytes out;
  WriteChangeUser(Expected(), kCaps, out);
  EXPECT_EQ(HexString(out), kLibmariadbChangeUser);
}

TEST(ChangeUserTest, RoundTripUnderFewerCapabilities) {
  using namespace capability;
  for (Capabilities caps : {Capabilities(0), kProtocol41, kProtocol41 | kSecureConnection,
                            kProtocol41 | kSecureConnection | kPluginAuth}) {
    SCOPED_TRACE(caps);
    ChangeUser c;
    c.username = "app";
    c.auth_response = (caps & kSecureConnection) ? std::string("\x00\xff", 2) : "tok";
    c.database = "";
    if (caps & kProtocol41) c.character_set = 224;
    if (caps & kPluginAuth) c.auth_plugin_name = kNativePasswordPlugin;
    Bytes out;
    WriteChangeUser(c, caps, out);
    auto back = ParseChangeUser(out, caps);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_TRUE(*back == c);
    ExpectPrefixesFail(out, out.size(), [caps](ByteView v) { return ParseChangeUser(v, caps); });
  }
}

TEST(ChangeUserTest, RejectsOtherCommandsAndTrailingBytes) {
  Bytes b = FromHex(kLibmariadbChangeUser);
  b.push_back(1);
  auto trailing = ParseChangeUser(b, kCaps);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().code(), ErrorCode::kMalformed);
  auto query = ParseChangeUser(FromHex("0353454c4543542031"), kCaps);
  ASSERT_FALSE(query);
  EXPECT_EQ(query.error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace cutover::protocol
