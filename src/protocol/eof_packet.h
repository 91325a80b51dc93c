// EOF_Packet (classic, 5-byte payload, without CLIENT_DEPRECATE_EOF).
// Sans-io. Thread-safety: plain values.
#pragma once

#include "common/bytes.h"

namespace cutover::protocol {

struct EofPacket {
  uint16_t warnings = 0;
  uint16_t status_flags = 0;
};

// Parses the payload after the 0xFE header byte. Rejects trailing bytes.
[[nodiscard]] Result<EofPacket> ParseEofPacket(ByteReader& in);
// Writes the payload including the 0xFE header byte.
void WriteEofPacket(const EofPacket& p, Bytes& out);

}  // namespace cutover::protocol
