#include "protocol/auth.h"

#include <gtest/gtest.h>

#include "protocol/constants.h"
#include "test_util.h"

namespace cutover::protocol {
namespace {

// Values captured from MariaDB 10.11.19 on 127.0.0.1:
//  - PASSWORD(...) from `mariadb -N -e "SELECT PASSWORD('secret'), ..."`
//    (client character set utf8mb4, so 'p@ss wörd' is hashed as UTF-8);
//  - the scramble of a greeting and the token libmariadb 3.3.20 answered it
//    with for password "secret", through a Python TCP relay.
struct HashCase {
  const char* name;
  const char* password;
  const char* mysql_user_hash;
};
const HashCase kHashes[] = {
    {"Secret", "secret", "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"},
    {"Utf8WithSpace", "p@ss w\xc3\xb6rd", "*E6006915A841FF0D4B3A05BEDA27FEEA64874FBD"},
};
const char kGreetingScramble[] = "6f45497d5c332a7532375f577466216d256a6c5d";
const char kLibmariadbToken[] = "10be53707c2709c20422b449b143babf4e1ad97d";

TEST(AuthTest, Stage2MatchesServerPasswordFunction) {
  for (const HashCase& c : kHashes) {
    SCOPED_TRACE(c.name);
    const Sha1Digest stage2 = NativePasswordStage2(NativePasswordStage1(c.password));
    EXPECT_EQ(FormatNativePasswordHash(stage2), c.mysql_user_hash);
    auto parsed = ParseNativePasswordHash(c.mysql_user_hash);
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_EQ(*parsed, stage2);
  }
}

TEST(AuthTest, Sha1KnownAnswer) {
  EXPECT_EQ(HexString(Sha1(AsBytes("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HexString(Sha1({})), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(AuthTest, TokenMatchesWhatLibmariadbSent) {
  const Bytes scramble = FromHex(kGreetingScramble);
  const std::string token = NativePasswordToken(NativePasswordStage1("secret"), scramble);
  EXPECT_EQ(HexString(AsBytes(token)), kLibmariadbToken);
}

TEST(AuthTest, VerifyRecoversStage1FromAValidToken) {
  const Bytes scramble = FromHex(kGreetingScramble);
  const Sha1Digest stage2 = *ParseNativePasswordHash(kHashes[0].mysql_user_hash);
  auto stage1 = VerifyNativePasswordToken(FromHex(kLibmariadbToken), scramble, stage2);
  ASSERT_TRUE(stage1.has_value());
  EXPECT_EQ(*stage1, NativePasswordStage1("secret"));

  // With a fresh scramble, as the proxy would issue, and stage 1 reused for a backend.
  const std::string fresh = MakeScramble();
  const std::string token = NativePasswordToken(*stage1, AsBytes(fresh));
  auto again = VerifyNativePasswordToken(AsBytes(token), AsBytes(fresh), stage2);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *stage1);
}

TEST(AuthTest, WrongTokensFail) {
  const Bytes scramble = FromHex(kGreetingScramble);
  const Sha1Digest stage2 = *ParseNativePasswordHash(kHashes[0].mysql_user_hash);
  const std::string wrong_password = NativePasswordToken(NativePasswordStage1("Secret"), scramble);
  EXPECT_FALSE(VerifyNativePasswordToken(AsBytes(wrong_password), scramble, stage2));

  Bytes flipped = FromHex(kLibmariadbToken);
  flipped[7] ^= 0x01;
  EXPECT_FALSE(VerifyNativePasswordToken(flipped, scramble, stage2));

  Bytes other_scramble = scramble;
  other_scramble[0] ^= 0x01;
  EXPECT_FALSE(VerifyNativePasswordToken(FromHex(kLibmariadbToken), other_scramble, stage2));

  EXPECT_FALSE(VerifyNativePasswordToken({}, scramble, stage2));
  EXPECT_FALSE(VerifyNativePasswordToken(ByteView(FromHex(kLibmariadbToken)).first(19), scramble, stage2));
}

TEST(AuthTest, ParseNativePasswordHashRejectsBadInput) {
  const char* bad[] = {
      "",
      "*",
      "14E65567ABDB5135D0CFD9A70B3032C179A49EE7",     // no '*'
      "*14E65567ABDB5135D0CFD9A70B3032C179A49EE",     // 39 digits
      "*14E65567ABDB5135D0CFD9A70B3032C179A49EE77",   // 41 digits
      "*14E65567ABDB5135D0CFD9A70B3032C179A49EEG",    // not hex
      "#14E65567ABDB5135D0CFD9A70B3032C179A49EE7",    // wrong marker
      "*14E65567ABDB5135D0CFD9A70B3032C179A49E 7",    // space
  };
  for (const char* s : bad) {
    auto h = ParseNativePasswordHash(s);
    ASSERT_FALSE(h) << s;
    EXPECT_EQ(h.error().code(), ErrorCode::kMalformed) << s;
  }
  auto lower = ParseNativePasswordHash("*14e65567abdb5135d0cfd9a70b3032c179a49ee7");
  ASSERT_TRUE(lower);
  EXPECT_EQ(FormatNativePasswordHash(*lower), kHashes[0].mysql_user_hash);
}

// AuthSwitchRequests captured from MariaDB 10.11.19 (payloads with the 0xFE
// header): one answering a Python raw-socket login that asked for
// caching_sha2_password, one answering libmariadb's COM_CHANGE_USER (same
// scramble as the connection's greeting). Both end the scramble with a NUL.
struct SwitchCase {
  const char* name;
  const char* hex;
  const char* scramble_hex;
};
const SwitchCase kSwitches[] = {
    {"LoginWithOtherPlugin",
     "fe6d7973716c5f6e61746976655f70617373776f726400694459704a5f7e7c7557343a66763e713f24352100",
     "694459704a5f7e7c7557343a66763e713f243521"},
    {"ChangeUser", "fe6d7973716c5f6e61746976655f70617373776f7264006f45497d5c332a7532375f577466216d256a6c5d00",
     kGreetingScramble},
};

Result<AuthSwitchRequest> ParseSwitch(ByteView payload) {
  ByteReader in(payload.subspan(1));
  return ParseAuthSwitchRequest(in);
}

TEST(AuthSwitchTest, ParsesCapturedRequests) {
  for (const SwitchCase& c : kSwitches) {
    SCOPED_TRACE(c.name);
    auto r = ParseSwitch(FromHex(c.hex));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->plugin_name, kNativePasswordPlugin);
    EXPECT_EQ(HexString(AsBytes(r->plugin_data)), c.scramble_hex);
  }
}

TEST(AuthSwitchTest, EveryTruncatedPrefixOfThePluginNameFails) {
  // The plugin data runs to the end of the packet, so only the NUL-terminated
  // name can be checked for truncation.
  for (const SwitchCase& c : kSwitches) {
    const Bytes b = FromHex(c.hex);
    ExpectPrefixesFail(ByteView(b).subspan(1), sizeof(kNativePasswordPlugin), [](ByteView v) {
      ByteReader in(v);
      return ParseAuthSwitchRequest(in);
    });
  }
}

TEST(AuthSwitchTest, RoundTripReproducesCapture) {
  for (const SwitchCase& c : kSwitches) {
    SCOPED_TRACE(c.name);
    const AuthSwitchRequest r{kNativePasswordPlugin, std::string(AsChars(FromHex(c.scramble_hex)))};
    Bytes out;
    WriteAuthSwitchRequest(r, out);
    EXPECT_EQ(HexString(out), c.hex);
    auto back = ParseSwitch(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->plugin_name, r.plugin_name);
    EXPECT_EQ(back->plugin_data, r.plugin_data);
  }
}

TEST(AuthTest, MakeScrambleLooksLikeAServers) {
  const std::string a = MakeScramble();
  const std::string b = MakeScramble();
  ASSERT_EQ(a.size(), kScrambleLength);
  EXPECT_NE(a, b);
  for (char ch : MakeScramble(4096)) {
    EXPECT_GE(ch, '!');
    EXPECT_LE(ch, '~');
    EXPECT_NE(ch, '$');
  }
  EXPECT_EQ(MakeScramble(0), "");
  EXPECT_EQ(MakeScramble(7).size(), 7u);
}

}  // namespace
}  // namespace cutover::protocol
