#include "protocol/ed25519_auth.h"

#include <sodium.h>

#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace cutover::protocol {
namespace {

void InitSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

// SHA512(password), its first half clamped into the secret scalar.
std::array<uint8_t, 64> ExpandedSecret(std::string_view password) {
  std::array<uint8_t, 64> h{};
  crypto_hash_sha512(h.data(), reinterpret_cast<const uint8_t*>(password.data()), password.size());
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  return h;
}

}  // namespace

Ed25519PublicKey Ed25519PasswordKey(std::string_view password) {
  InitSodium();
  std::array<uint8_t, 64> secret = ExpandedSecret(password);
  Ed25519PublicKey key{};
  if (crypto_scalarmult_ed25519_base_noclamp(key.data(), secret.data()) != 0) {
    throw std::runtime_error("libsodium: Ed25519 base multiplication failed");
  }
  OPENSSL_cleanse(secret.data(), secret.size());
  return key;
}

std::string FormatEd25519Key(const Ed25519PublicKey& key) {
  std::string out(45, '\0');  // 4 * ceil(32 / 3) + NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()), key.data(), int(key.size()));
  out.resize(n > 0 ? size_t(n) : 0);
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

bool VerifyEd25519Signature(ByteView signature, ByteView nonce, const Ed25519PublicKey& key) {
  InitSodium();
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(signature.data(), nonce.data(), nonce.size(), key.data()) == 0;
}

// Ed25519 signing with an expanded secret that is not SHA512(seed32), as
// RFC 8032 section 5.1.6 spells it: r = SHA512(prefix || M) mod L, R = rB,
// S = r + SHA512(R || A || M) * a mod L.
std::string Ed25519Sign(std::string_view password, ByteView nonce) {
  InitSodium();
  std::array<uint8_t, 64> secret = ExpandedSecret(password);
  const Ed25519PublicKey key = Ed25519PasswordKey(password);
  crypto_hash_sha512_state state;
  std::array<uint8_t, 64> hash{};
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, secret.data() + 32, 32);
  crypto_hash_sha512_update(&state, nonce.data(), nonce.size());
  crypto_hash_sha512_final(&state, hash.data());
  std::array<uint8_t, 32> r{};
  crypto_core_ed25519_scalar_reduce(r.data(), hash.data());
  std::string signature(64, '\0');
  auto* sig = reinterpret_cast<uint8_t*>(signature.data());
  crypto_scalarmult_ed25519_base_noclamp(sig, r.data());
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, sig, 32);
  crypto_hash_sha512_update(&state, key.data(), key.size());
  crypto_hash_sha512_update(&state, nonce.data(), nonce.size());
  crypto_hash_sha512_final(&state, hash.data());
  std::array<uint8_t, 32> k{};
  crypto_core_ed25519_scalar_reduce(k.data(), hash.data());
  std::array<uint8_t, 32> a{};
  std::copy(secret.begin(), secret.begin() + 32, a.begin());
  std::array<uint8_t, 32> ka{};
  crypto_core_ed25519_scalar_mul(ka.data(), k.data(), a.data());
  crypto_core_ed25519_scalar_add(sig + 32, r.data(), ka.data());
  OPENSSL_cleanse(secret.data(), secret.size());
  OPENSSL_cleanse(a.data(), a.size());
  OPENSSL_cleanse(r.data(), r.size());
  return signature;
}

}  // namespace cutover::protocol
