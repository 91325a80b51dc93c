// HandshakeResponse41 (the client's login) and the SSLRequest prefix.
// Sans-io. Thread-safety: plain values.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "protocol/constants.h"

namespace cutover::protocol {

struct HandshakeResponse41 {
  // The high 32 bits are MariaDB's extended capabilities, in the filler; read
  // and written only when CLIENT_MYSQL (bit 0) is clear.
  Capabilities capabilities = 0;
  uint32_t max_packet_size = 0;
  uint8_t character_set = 0;
  std::string username;
  std::string auth_response;
  std::string database;          // with CLIENT_CONNECT_WITH_DB
  std::string auth_plugin_name;  // with CLIENT_PLUGIN_AUTH
  std::vector<std::pair<std::string, std::string>> attributes;  // with CLIENT_CONNECT_ATTRS

  bool operator==(const HandshakeResponse41&) const = default;
};

// True when the payload is an SSLRequest: exactly the 32-byte fixed part with
// CLIENT_SSL set. REQUIRES: nothing.
bool IsSslRequest(ByteView payload);
// The SSLRequest that asks a server for TLS before `r` goes over it: r's
// fixed part. REQUIRES: r.capabilities has CLIENT_SSL.
void WriteSslRequest(const HandshakeResponse41& r, Bytes& out);

// Parses the whole payload. Requires CLIENT_PROTOCOL_41 (kUnsupported
// otherwise). The auth response is lenenc with
// CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA, 1-byte-length with
// CLIENT_SECURE_CONNECTION, NUL-terminated otherwise. Rejects trailing bytes.
[[nodiscard]] Result<HandshakeResponse41> ParseHandshakeResponse41(ByteView payload);
// Writes the whole payload, encoding fields according to r.capabilities.
void WriteHandshakeResponse41(const HandshakeResponse41& r, Bytes& out);

// Connection attributes (CLIENT_CONNECT_ATTRS): a lenenc total length, then
// lenenc key and value strings. Also used by COM_CHANGE_USER.
using ConnectAttributes = std::vector<std::pair<std::string, std::string>>;
[[nodiscard]] Result<ConnectAttributes> ParseConnectAttributes(ByteReader& in);
void WriteConnectAttributes(const ConnectAttributes& attrs, ByteWriter& out);

}  // namespace cutover::protocol
