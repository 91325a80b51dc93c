// client_ed25519 (MariaDB's auth_ed25519), the server's side as the proxy
// plays it.
//
// The server sends 32 random bytes (no NUL); the client signs them with
// Ed25519, its secret scalar being the clamped first half of SHA512(password)
// (the password is the seed, of any length). The server checks the 64-byte
// signature against the account's public key A = a*B, which mysql.user keeps
// as 43 base64 characters (ED25519_PASSWORD('...')).
// Sans-io. Thread-safety: pure functions.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace cutover::protocol {

inline constexpr char kEd25519Plugin[] = "client_ed25519";
inline constexpr size_t kEd25519NonceLength = 32;

using Ed25519PublicKey = std::array<uint8_t, 32>;

// A from the password.
Ed25519PublicKey Ed25519PasswordKey(std::string_view password);
// As mysql.user and ED25519_PASSWORD() write it: base64 without padding.
std::string FormatEd25519Key(const Ed25519PublicKey& key);
// Does `signature` sign `nonce` under `key`?
bool VerifyEd25519Signature(ByteView signature, ByteView nonce, const Ed25519PublicKey& key);
// The client's side, for tests: the signature of `nonce` with the password.
std::string Ed25519Sign(std::string_view password, ByteView nonce);

}  // namespace cutover::protocol
