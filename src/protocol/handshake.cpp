#include "protocol/handshake.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "protocol/err_packet.h"

namespace cutover::protocol {
namespace {

constexpr uint8_t kProtocolVersion10 = 10;
constexpr size_t kScramblePart1Length = 8;
constexpr size_t kMinScramblePart2Length = 13;  // 12 bytes and a NUL
constexpr size_t kReservedLength = 10;
constexpr size_t kMariaDbCapsOffset = 6;  // within the reserved bytes

// A server refusing the connection sends an ERR instead of the greeting.
Error GreetingError(ByteView payload) {
  ByteReader r(payload.subspan(1));
  auto err = ParseErrPacket(r);
  if (!err) return err.error();
  return Error::Server(err->error_code, err->sql_state, err->message);
}

// Everything after the capability flags' low half.
Status ParseGreetingTail(ByteReader& r, ByteView part1, HandshakeV10& h) {
  auto charset = r.U8();
  if (!charset) return Fail(charset.error());
  h.character_set = *charset;
  auto flags = r.U16();
  if (!flags) return Fail(flags.error());
  h.status_flags = *flags;
  auto caps_high = r.U16();
  if (!caps_high) return Fail(caps_high.error());
  h.capabilities |= Capabilities(*caps_high) << 16;
  auto data_len = r.U8();
  if (!data_len) return Fail(data_len.error());
  auto reserved = r.Fixed(kReservedLength);
  if (!reserved) return Fail(reserved.error());
  // A MariaDB server clears CLIENT_MYSQL and puts its extended flags here.
  if (!(h.capabilities & capability::kLongPassword)) {
    h.capabilities |= Capabilities(LoadU32(reserved->data() + kMariaDbCapsOffset)) << 32;
  }
  h.auth_plugin_data.assign(AsChars(part1));
  if (h.capabilities & capability::kSecureConnection) {
    const size_t len = std::max<size_t>(kMinScramblePart2Length, size_t(*data_len) > 8 ? *data_len - 8 : 0);
    auto part2 = r.Fixed(len);
    if (!part2) return Fail(part2.error());
    // The NUL ends it. Without one the scramble's length is ambiguous (and a
    // 13-byte part could not be written back the same way), so it is refused.
    if (part2->back() != 0) return Fail(Error::Malformed("handshake: auth-plugin-data part 2 does not end with a NUL"));
    h.auth_plugin_data.append(AsChars(part2->first(part2->size() - 1)));
  }
  if (h.capabilities & capability::kPluginAuth) {
    auto plugin = r.NulString();
    if (!plugin) return Fail(plugin.error());
    h.auth_plugin_name = std::move(*plugin);
  }
  return {};
}

}  // namespace

Result<HandshakeV10> ParseHandshakeV10(ByteView payload) {
  if (payload.empty()) return Fail(Error::Incomplete());
  if (payload[0] == kErrHeader) return Fail(GreetingError(payload));
  ByteReader r(payload);
  HandshakeV10 h;
  h.protocol_version = *r.U8();
  if (h.protocol_version != kProtocolVersion10) {
    return Fail(Error::Unsupported(fmt::format("handshake protocol version {}", h.protocol_version)));
  }
  auto version = r.NulString();
  if (!version) return Fail(version.error());
  h.server_version = std::move(*version);
  auto id = r.U32();
  if (!id) return Fail(id.error());
  h.connection_id = *id;
  auto part1 = r.Fixed(kScramblePart1Length);
  if (!part1) return Fail(part1.error());
  auto filler = r.U8();
  if (!filler) return Fail(filler.error());
  auto caps_low = r.U16();
  if (!caps_low) return Fail(caps_low.error());
  h.capabilities = *caps_low;
  // Pre-4.1 servers may end the greeting here; cutover needs the rest.
  if (auto tail = ParseGreetingTail(r, *part1, h); !tail) return Fail(tail.error());
  if (auto end = r.ExpectEnd("handshake"); !end) return Fail(end.error());
  return h;
}

void WriteHandshakeV10(const HandshakeV10& h, Bytes& out) {
  assert(h.auth_plugin_data.size() >= kScramblePart1Length && h.auth_plugin_data.size() < 0xff);
  ByteWriter w(out);
  const std::string_view data = h.auth_plugin_data;
  w.U8(h.protocol_version);
  w.NulString(h.server_version);
  w.U32(h.connection_id);
  w.Raw(data.substr(0, kScramblePart1Length));
  w.U8(0);
  w.U16(uint16_t(h.capabilities));
  w.U8(h.character_set);
  w.U16(h.status_flags);
  w.U16(uint16_t(h.capabilities >> 16));
  // Readers size part 2 by this length whenever it is set, so it is written
  // whenever part 2 is (not only with CLIENT_PLUGIN_AUTH, as MySQL does).
  const bool has_length = (h.capabilities & (capability::kPluginAuth | capability::kSecureConnection)) != 0;
  w.U8(has_length ? uint8_t(data.size() + 1) : 0);
  w.Zeros(kMariaDbCapsOffset);
  if (h.capabilities & capability::kLongPassword) {
    w.Zeros(4);
  } else {
    w.U32(uint32_t(h.capabilities >> 32));
  }
  if (h.capabilities & capability::kSecureConnection) {
    const std::string_view part2 = data.substr(kScramblePart1Length);
    w.Raw(part2);
    // Readers take at least 13 bytes, the last a NUL.
    if (part2.size() + 1 < kMinScramblePart2Length) w.Zeros(kMinScramblePart2Length - 1 - part2.size());
    w.U8(0);
  }
  if (h.capabilities & capability::kPluginAuth) w.NulString(h.auth_plugin_name);
}

}  // namespace cutover::protocol
