#include "protocol/caching_sha2.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cutover::protocol {
namespace {

constexpr char kNonce[] = "0123456789abcdefghij";

// Computed with Python's hashlib from the MySQL documentation's formula,
// independently of this code.
TEST(CachingSha2Test, TokenAndStage2MatchAnIndependentComputation) {
  const std::string token = CachingSha2Token("secret", AsBytes(std::string_view(kNonce)));
  const Bytes expected = FromHex("7e4adda2f2d5ef09b4147518becb0cee2939376203650a8c2bb2815959364bd0");
  EXPECT_EQ(Bytes(AsBytes(token).begin(), AsBytes(token).end()), expected);
  const Sha256Digest stage2 = CachingSha2Stage2("secret");
  EXPECT_EQ(Bytes(stage2.begin(), stage2.end()),
            FromHex("3881219d087dd9c634373fd33dfa33a2cb6bfc6c520b64b8bb60ef2ceb534ae7"));
}

TEST(CachingSha2Test, VerifyAcceptsOnlyTheRightPasswordAndNonce) {
  const Sha256Digest stage2 = CachingSha2Stage2("secret");
  const ByteView nonce = AsBytes(std::string_view(kNonce));
  EXPECT_TRUE(VerifyCachingSha2Token(AsBytes(CachingSha2Token("secret", nonce)), nonce, stage2));
  EXPECT_FALSE(VerifyCachingSha2Token(AsBytes(CachingSha2Token("Secret", nonce)), nonce, stage2));
  const std::string other_nonce = "jihgfedcba9876543210";
  EXPECT_FALSE(VerifyCachingSha2Token(AsBytes(CachingSha2Token("secret", AsBytes(other_nonce))), nonce, stage2));
  EXPECT_FALSE(VerifyCachingSha2Token(AsBytes(std::string_view("short")), nonce, stage2));
  EXPECT_FALSE(VerifyCachingSha2Token(ByteView(), nonce, stage2));
}

TEST(CachingSha2Test, RsaFullAuthRoundTripsThePassword) {
  auto key = RsaKey::Generate();
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_TRUE((*key)->public_pem().starts_with("-----BEGIN PUBLIC KEY-----")) << (*key)->public_pem();
  const ByteView nonce = AsBytes(std::string_view(kNonce));
  // What a client sends: (password || NUL) XOR the nonce, RSA-OAEP encrypted.
  const std::string masked = XorWithNonce(AsBytes(std::string_view("a password longer than the nonce\0", 33)), nonce);
  auto cipher = (*key)->Encrypt(AsBytes(masked));
  ASSERT_TRUE(cipher) << cipher.error().message();
  EXPECT_EQ(cipher->size(), 256u);
  auto plain = (*key)->Decrypt(*cipher);
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(XorWithNonce(AsBytes(*plain), nonce), std::string("a password longer than the nonce\0", 33));
  // Garbage does not decrypt: an error, not a crash.
  Bytes garbage(256, 0x5a);
  EXPECT_FALSE((*key)->Decrypt(garbage));
  EXPECT_FALSE((*key)->Decrypt(ByteView()));
}

}  // namespace
}  // namespace cutover::protocol
