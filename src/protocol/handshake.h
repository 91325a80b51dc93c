// Initial Handshake Packet, protocol version 10: the server's greeting.
// Sans-io. Thread-safety: plain values.
#pragma once

#include <string>

#include "common/bytes.h"
#include "protocol/constants.h"

namespace cutover::protocol {

struct HandshakeV10 {
  uint8_t protocol_version = 10;
  std::string server_version;
  uint32_t connection_id = 0;
  std::string auth_plugin_data;  // the scramble (salt): 20 bytes for mysql_native_password
  // The high 32 bits are MariaDB's extended capabilities, in the last 4
  // reserved bytes; read and written only when CLIENT_MYSQL (bit 0) is clear.
  Capabilities capabilities = 0;
  uint8_t character_set = 0;
  uint16_t status_flags = 0;
  std::string auth_plugin_name;  // with CLIENT_PLUGIN_AUTH

  bool operator==(const HandshakeV10&) const = default;
};

// Parses the whole payload (starting with the protocol version byte 0x0a).
// A payload starting with 0xFF is an ERR (e.g. "too many connections") and is
// reported as kServer with the server's errno and message. The scramble's
// second part must end with a NUL, as every server sends it (kMalformed otherwise).
[[nodiscard]] Result<HandshakeV10> ParseHandshakeV10(ByteView payload);
// Writes the whole payload. REQUIRES: 8 <= auth_plugin_data.size() < 255.
void WriteHandshakeV10(const HandshakeV10& h, Bytes& out);

}  // namespace cutover::protocol
