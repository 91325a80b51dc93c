// mysql_native_password and the auth-switch exchange.
//
// mysql_native_password stores SHA1(SHA1(password)) ("stage 2", the
// "*6BB48..." hash of mysql.user). A client proves it knows the password by
// sending SHA1(password) XOR SHA1(scramble + stage2). A proxy that knows stage
// 2 can therefore recover SHA1(password) ("stage 1") from a valid client
// token, check it, and use it to log in to any backend that has the same
// password: this is how cutover logs clients in to a server it moves them to.
// Sans-io. Thread-safety: pure functions.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace cutover::protocol {

using Sha1Digest = std::array<uint8_t, 20>;

Sha1Digest Sha1(ByteView data);

// SHA1(password).
Sha1Digest NativePasswordStage1(std::string_view password);
// SHA1(stage1).
Sha1Digest NativePasswordStage2(const Sha1Digest& stage1);
// Parses the mysql.user form "*" + 40 hex digits (either case).
[[nodiscard]] Result<Sha1Digest> ParseNativePasswordHash(std::string_view hash);
// "*" + 40 upper-case hex digits.
std::string FormatNativePasswordHash(const Sha1Digest& stage2);

// The 20-byte token a client sends: stage1 XOR SHA1(scramble + SHA1(stage1)).
// REQUIRES: scramble.size() == 20.
std::string NativePasswordToken(const Sha1Digest& stage1, ByteView scramble);

// Checks a client's token against the stored stage-2 hash. Returns stage 1 on
// success and nullopt when the token does not match (wrong password).
// An empty token matches nothing here: callers handle empty passwords.
// REQUIRES: scramble.size() == 20.
std::optional<Sha1Digest> VerifyNativePasswordToken(ByteView token, ByteView scramble,
                                                    const Sha1Digest& stage2);

// AuthSwitchRequest: 0xFE, plugin name (NUL), plugin data (rest; servers end
// the 20-byte scramble with a NUL, which is not part of the scramble).
struct AuthSwitchRequest {
  std::string plugin_name;
  std::string plugin_data;  // without the trailing NUL
  bool nul_terminated = true;  // false for client_ed25519, whose nonce is exactly 32 bytes
};
// Parses the payload after the 0xFE header byte.
[[nodiscard]] Result<AuthSwitchRequest> ParseAuthSwitchRequest(ByteReader& in);
// Writes the payload including the header byte, and a trailing NUL after the
// data unless !r.nul_terminated.
void WriteAuthSwitchRequest(const AuthSwitchRequest& r, Bytes& out);

// Random bytes for a scramble: printable, never NUL or '$', as servers send.
std::string MakeScramble(size_t length = 20);

}  // namespace cutover::protocol
