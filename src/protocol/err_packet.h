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
// True when a whole server payload (0xFF header included) is a MariaDB
// progress report: 0xFF, int<2> 0xFFFF, int<1> 1, stage, max stage,
// int<3> progress x 1000, lenenc proc_info. Not an error: the statement goes on.
inline bool IsProgressReport(ByteView payload) {
  return payload.size() >= 3 && payload[0] == kErrHeader && LoadU16(payload.data() + 1) == server_error::kProgressReport;
}
// Writes the payload including the 0xFF header byte.
void WriteErrPacket(const ErrPacket& p, Bytes& out);

}  // namespace cutover::protocol
