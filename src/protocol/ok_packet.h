// OK_Packet (also the 0xFE-headed OK that ends a result set under
// CLIENT_DEPRECATE_EOF). Sans-io. Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>

#include "common/bytes.h"
#include "protocol/constants.h"
#include "protocol/session_state.h"

namespace cutover::protocol {

// OK_Packet, in the protocol documentation's field order.
struct OkPacket {
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint16_t status_flags = 0;
  uint16_t warnings = 0;
  std::string info;
  std::optional<SessionStateChanges> session_state;  // CLIENT_SESSION_TRACK and kSessionStateChanged only

  bool operator==(const OkPacket&) const = default;
};

// Parses the payload after the header byte (0x00 or 0xFE). The info is a
// lenenc string, absent when the packet ends after the warnings, with or
// without CLIENT_SESSION_TRACK (servers write it so; the documentation's
// string<EOF> is wrong). Rejects trailing bytes.
[[nodiscard]] Result<OkPacket> ParseOkPacket(ByteReader& in, Capabilities caps);
// Writes the payload including the header byte (kOkHeader or kEofHeader).
// With CLIENT_SESSION_TRACK, kSessionStateChanged is written set exactly when
// session_state has a value, since readers rely on it to find the block.
void WriteOkPacket(const OkPacket& p, Capabilities caps, uint8_t header, Bytes& out);

}  // namespace cutover::protocol
