#include "protocol/handshake_response.h"

#include <cassert>

namespace cutover::protocol {
namespace {

constexpr size_t kFixedPartLength = 32;  // caps, max packet, charset, filler
constexpr size_t kFillerLength = 23;
constexpr size_t kMariaDbCapsOffset = 19;  // within the filler

// The auth response's encoding depends on what the client announced.
Result<std::string> ParseAuthResponse(ByteReader& r, Capabilities caps) {
  if (caps & capability::kPluginAuthLenencData) return r.LenencString();
  if (caps & capability::kSecureConnection) {
    auto len = r.U8();
    if (!len) return Fail(len.error());
    return r.FixedString(*len);
  }
  return r.NulString();
}

// Everything after the username.
Status ParseResponseTail(ByteReader& r, HandshakeResponse41& out) {
  auto auth = ParseAuthResponse(r, out.capabilities);
  if (!auth) return Fail(auth.error());
  out.auth_response = std::move(*auth);
  if (out.capabilities & capability::kConnectWithDb) {
    auto db = r.NulString();
    if (!db) return Fail(db.error());
    out.database = std::move(*db);
  }
  if (out.capabilities & capability::kPluginAuth) {
    auto plugin = r.NulString();
    if (!plugin) return Fail(plugin.error());
    out.auth_plugin_name = std::move(*plugin);
  }
  if (out.capabilities & capability::kConnectAttrs) {
    auto attrs = ParseConnectAttributes(r);
    if (!attrs) return Fail(attrs.error());
    out.attributes = std::move(*attrs);
  }
  return {};
}

}  // namespace

bool IsSslRequest(ByteView payload) {
  return payload.size() == kFixedPartLength && (LoadU32(payload.data()) & capability::kSsl);
}

Result<HandshakeResponse41> ParseHandshakeResponse41(ByteView payload) {
  ByteReader r(payload);
  HandshakeResponse41 out;
  auto caps = r.U32();
  if (!caps) return Fail(caps.error());
  out.capabilities = *caps;
  if (!(out.capabilities & capability::kProtocol41)) {
    return Fail(Error::Unsupported("client login without CLIENT_PROTOCOL_41 (pre-4.1 client)"));
  }
  auto max_packet = r.U32();
  if (!max_packet) return Fail(max_packet.error());
  out.max_packet_size = *max_packet;
  auto charset = r.U8();
  if (!charset) return Fail(charset.error());
  out.character_set = *charset;
  auto filler = r.Fixed(kFillerLength);
  if (!filler) return Fail(filler.error());
  // A MariaDB client clears CLIENT_MYSQL and puts its extended flags here.
  if (!(out.capabilities & capability::kLongPassword)) {
    out.capabilities |= Capabilities(LoadU32(filler->data() + kMariaDbCapsOffset)) << 32;
  }
  auto user = r.NulString();
  if (!user) return Fail(user.error());
  out.username = std::move(*user);
  if (auto tail = ParseResponseTail(r, out); !tail) return Fail(tail.error());
  if (auto end = r.ExpectEnd("handshake response"); !end) return Fail(end.error());
  return out;
}

void WriteHandshakeResponse41(const HandshakeResponse41& r, Bytes& out) {
  ByteWriter w(out);
  const Capabilities caps = r.capabilities;
  w.U32(uint32_t(caps));
  w.U32(r.max_packet_size);
  w.U8(r.character_set);
  w.Zeros(kMariaDbCapsOffset);
  if (caps & capability::kLongPassword) {
    w.Zeros(4);
  } else {
    w.U32(uint32_t(caps >> 32));
  }
  w.NulString(r.username);
  if (caps & capability::kPluginAuthLenencData) {
    w.LenencString(r.auth_response);
  } else if (caps & capability::kSecureConnection) {
    assert(r.auth_response.size() <= 0xff);
    w.U8(uint8_t(r.auth_response.size()));
    w.Raw(r.auth_response);
  } else {
    w.NulString(r.auth_response);
  }
  if (caps & capability::kConnectWithDb) w.NulString(r.database);
  if (caps & capability::kPluginAuth) w.NulString(r.auth_plugin_name);
  if (caps & capability::kConnectAttrs) WriteConnectAttributes(r.attributes, w);
}

Result<ConnectAttributes> ParseConnectAttributes(ByteReader& in) {
  auto total = in.LenencInt();
  if (!total) return Fail(total.error());
  if (*total > in.remaining()) return Fail(Error::Incomplete());
  auto block = in.Fixed(size_t(*total));
  if (!block) return Fail(block.error());
  ByteReader r(*block);
  ConnectAttributes attrs;
  while (!r.empty()) {
    // The block's length was given, so running short inside it is malformed.
    auto key = r.LenencString();
    if (!key) return Fail(Error::Malformed("connection attribute name overruns its block"));
    auto value = r.LenencString();
    if (!value) return Fail(Error::Malformed("connection attribute value overruns its block"));
    attrs.emplace_back(std::move(*key), std::move(*value));
  }
  return attrs;
}

void WriteConnectAttributes(const ConnectAttributes& attrs, ByteWriter& out) {
  Bytes block;
  ByteWriter w(block);
  for (const auto& [key, value] : attrs) {
    w.LenencString(key);
    w.LenencString(value);
  }
  out.LenencInt(block.size());
  out.Raw(block);
}

void WriteSslRequest(const HandshakeResponse41& r, Bytes& out) {
  assert(r.capabilities & capability::kSsl);
  Bytes full;
  WriteHandshakeResponse41(r, full);
  out.insert(out.end(), full.begin(), full.begin() + kFixedPartLength);
}

}  // namespace cutover::protocol
