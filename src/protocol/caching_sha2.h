// caching_sha2_password (MySQL 8's default; MariaDB clients speak it too),
// the server's side as the proxy plays it.
//
// Fast auth: the client sends SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) ||
// nonce); a server that knows SHA256(SHA256(pw)) ("stage 2") checks it and
// answers 0x01 0x03 before its OK. Only the password itself yields stage 2;
// mysql.user's salted hash does not, so a proxy that has only the
// mysql_native_password hash asks for full auth (0x01 0x04): over TLS the
// client sends the password and a NUL; in plaintext it asks for the server's
// RSA public key (0x02), and sends (password || NUL) XOR the nonce repeated,
// encrypted with RSA-OAEP.
// Sans-io. Thread-safety: pure functions; an RsaKey is immutable once made.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"

using EVP_PKEY = struct evp_pkey_st;

namespace cutover::protocol {

inline constexpr char kCachingSha2Plugin[] = "caching_sha2_password";
inline constexpr char kClearPasswordPlugin[] = "mysql_clear_password";
// The header of the server's "more data" packets, and what follows it.
inline constexpr uint8_t kAuthMoreData = 0x01;
inline constexpr uint8_t kCachingSha2FastAuthOk = 0x03;
inline constexpr uint8_t kCachingSha2FullAuth = 0x04;
// What a client sends to ask for the RSA public key.
inline constexpr uint8_t kCachingSha2PublicKeyRequest = 0x02;

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(ByteView data);
// SHA256(SHA256(password)): what fast auth checks tokens against.
Sha256Digest CachingSha2Stage2(std::string_view password);
// The client's fast-auth token. REQUIRES: nonce.size() == 20.
std::string CachingSha2Token(std::string_view password, ByteView nonce);
// Does the token prove the password whose stage 2 is given?
bool VerifyCachingSha2Token(ByteView token, ByteView nonce, const Sha256Digest& stage2);
// data XOR the nonce repeated: how a password is masked before RSA.
std::string XorWithNonce(ByteView data, ByteView nonce);

// The proxy's RSA key pair for plaintext full auth.
class RsaKey {
 public:
  // A new 2048-bit key.
  [[nodiscard]] static Result<std::shared_ptr<const RsaKey>> Generate();
  ~RsaKey();
  RsaKey(const RsaKey&) = delete;
  RsaKey& operator=(const RsaKey&) = delete;

  // PEM "-----BEGIN PUBLIC KEY-----...", as clients expect it.
  const std::string& public_pem() const { return public_pem_; }
  // RSA-OAEP (SHA-1, as the protocol has it) decryption.
  [[nodiscard]] Result<std::string> Decrypt(ByteView cipher) const;
  // The client's side, for tests.
  [[nodiscard]] Result<Bytes> Encrypt(ByteView plain) const;

 private:
  explicit RsaKey(EVP_PKEY* key);
  EVP_PKEY* key_;
  std::string public_pem_;
};

}  // namespace cutover::protocol
