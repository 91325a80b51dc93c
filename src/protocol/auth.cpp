#include "protocol/auth.h"

#include <cassert>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "protocol/constants.h"

namespace cutover::protocol {
namespace {

constexpr size_t kHashHexLength = 40;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// SHA1(scramble + stage2): the mask both sides XOR stage 1 with.
Sha1Digest TokenMask(ByteView scramble, const Sha1Digest& stage2) {
  Bytes buf(scramble.begin(), scramble.end());
  buf.insert(buf.end(), stage2.begin(), stage2.end());
  return Sha1(buf);
}

}  // namespace

Sha1Digest Sha1(ByteView data) {
  Sha1Digest out{};
  unsigned int len = 0;
  // Only fails if libcrypto itself is broken; there is nothing to recover.
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha1(), nullptr) != 1 || len != out.size()) {
    throw std::runtime_error("libcrypto SHA1 failed");
  }
  return out;
}

Sha1Digest NativePasswordStage1(std::string_view password) { return Sha1(AsBytes(password)); }

Sha1Digest NativePasswordStage2(const Sha1Digest& stage1) { return Sha1(stage1); }

Result<Sha1Digest> ParseNativePasswordHash(std::string_view hash) {
  if (hash.size() != 1 + kHashHexLength || hash[0] != '*') {
    return Fail(Error::Malformed(
        fmt::format("password hash must be '*' and 40 hex digits (mysql.user form), got {} characters", hash.size())));
  }
  Sha1Digest out{};
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hash[1 + 2 * i]);
    const int lo = HexValue(hash[2 + 2 * i]);
    if (hi < 0 || lo < 0) return Fail(Error::Malformed("password hash has a non-hex digit"));
    out[i] = uint8_t(hi << 4 | lo);
  }
  return out;
}

std::string FormatNativePasswordHash(const Sha1Digest& stage2) {
  std::string s = "*";
  for (uint8_t b : stage2) s += fmt::format("{:02X}", b);
  return s;
}

std::string NativePasswordToken(const Sha1Digest& stage1, ByteView scramble) {
  assert(scramble.size() == kScrambleLength);
  const Sha1Digest mask = TokenMask(scramble, NativePasswordStage2(stage1));
  std::string token(stage1.size(), '\0');
  for (size_t i = 0; i < stage1.size(); ++i) token[i] = char(stage1[i] ^ mask[i]);
  return token;
}

std::optional<Sha1Digest> VerifyNativePasswordToken(ByteView token, ByteView scramble, const Sha1Digest& stage2) {
  assert(scramble.size() == kScrambleLength);
  if (token.size() != Sha1Digest{}.size()) return std::nullopt;
  const Sha1Digest mask = TokenMask(scramble, stage2);
  Sha1Digest stage1{};
  for (size_t i = 0; i < stage1.size(); ++i) stage1[i] = token[i] ^ mask[i];
  const Sha1Digest check = Sha1(stage1);
  // Constant time, so the comparison says nothing about how close a guess was.
  if (CRYPTO_memcmp(check.data(), stage2.data(), check.size()) != 0) return std::nullopt;
  return stage1;
}

Result<AuthSwitchRequest> ParseAuthSwitchRequest(ByteReader& in) {
  AuthSwitchRequest r;
  auto name = in.NulString();
  if (!name) return Fail(name.error());
  r.plugin_name = std::move(*name);
  r.plugin_data = in.RestString();
  if (!r.plugin_data.empty() && r.plugin_data.back() == '\0') r.plugin_data.pop_back();
  return r;
}

void WriteAuthSwitchRequest(const AuthSwitchRequest& r, Bytes& out) {
  ByteWriter w(out);
  w.U8(kEofHeader);
  w.NulString(r.plugin_name);
  if (r.nul_terminated) w.NulString(r.plugin_data);
  else w.Raw(r.plugin_data);
}

std::string MakeScramble(size_t length) {
  // Printable ASCII from '!' to '~' without '$', like the server's scrambles.
  static constexpr std::string_view kAlphabet =
      "!\"#%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
  static_assert(kAlphabet.size() == 93);
  constexpr unsigned kUnbiasedLimit = 256 - 256 % kAlphabet.size();  // rejection keeps it uniform
  std::string out;
  out.reserve(length);
  uint8_t buf[64];
  while (out.size() < length) {
    if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("libcrypto RAND_bytes failed");
    for (uint8_t b : buf) {
      if (b < kUnbiasedLimit && out.size() < length) out += kAlphabet[b % kAlphabet.size()];
    }
  }
  return out;
}

}  // namespace cutover::protocol
