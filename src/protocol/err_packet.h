// ERR_Packet. Sans-io. Thread-safety: plain values.
#pragma once

#include <string>

#include "common/bytes.h"
#include "protocol/constants.h"

namespace cutover::protocol {

struct ErrPacket {
  uint16_t error_code = 0;
  std::string sql_state = "HY000";  // 5 characters; sent after a '#' marker
  std::string message;
};

// Parses the payload after the 0xFF header byte. Accepts a packet without the
// '#'+SQLSTATE marker (servers send that before the handshake completes) and
// then leaves sql_state "HY000". MariaDB's progress-report packets
// (error_code 0xFFFF) are reported as kUnsupported.
[[nodiscard]] Result<ErrPacket> ParseErrPacket(ByteReader& in);
// Writes the payload including the 0xFF header byte.
void WriteErrPacket(const ErrPacket& p, Bytes& out);

}  // namespace cutover::protocol
