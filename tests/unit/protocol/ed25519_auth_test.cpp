#include "protocol/ed25519_auth.h"

#include <gtest/gtest.h>

namespace cutover::protocol {
namespace {

// What MariaDB 10.11.19 stores, with auth_ed25519 installed:
//   CREATE USER e IDENTIFIED VIA ed25519 USING PASSWORD('foo');
//   SELECT JSON_VALUE(Priv, '$.authentication_string') FROM mysql.global_priv WHERE User = 'e';
TEST(Ed25519AuthTest, KeysMatchTheServersEd25519Password) {
  EXPECT_EQ(FormatEd25519Key(Ed25519PasswordKey("foo")), "vubFBzIrapbfHct1/J72dnUryz5VS7lA6XHH8sIx4TI");
  EXPECT_EQ(FormatEd25519Key(Ed25519PasswordKey("s3cret-Pw")), "O/8bYLQejP+oKPbQuclCp9cp21LVbNYw9FsfPCtxR4k");
  EXPECT_EQ(FormatEd25519Key(Ed25519PasswordKey("a password that is longer than thirty-two bytes")), "H9Hhznk3+pDOaXjGRLarxeKscvkr/67uMDI9jd8838w");
}

TEST(Ed25519AuthTest, SignatureVerifiesOnlyForItsPasswordAndNonce) {
  const std::string nonce(32, 'n');
  const Ed25519PublicKey key = Ed25519PasswordKey("s3cret-Pw");
  const std::string signature = Ed25519Sign("s3cret-Pw", AsBytes(nonce));
  ASSERT_EQ(signature.size(), 64u);
  EXPECT_TRUE(VerifyEd25519Signature(AsBytes(signature), AsBytes(nonce), key));
  EXPECT_FALSE(VerifyEd25519Signature(AsBytes(Ed25519Sign("wrong", AsBytes(nonce))), AsBytes(nonce), key));
  const std::string other(32, 'o');
  EXPECT_FALSE(VerifyEd25519Signature(AsBytes(signature), AsBytes(other), key));
  EXPECT_FALSE(VerifyEd25519Signature(AsBytes(signature.substr(0, 63)), AsBytes(nonce), key));
  EXPECT_FALSE(VerifyEd25519Signature(ByteView(), AsBytes(nonce), key));
}

}  // namespace
}  // namespace cutover::protocol
