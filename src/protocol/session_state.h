// Session-state-change information, the tail of an OK packet when
// CLIENT_SESSION_TRACK was negotiated and SERVER_SESSION_STATE_CHANGED is set.
// Sans-io. Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"

namespace cutover::protocol {

struct SessionStateChanges {
  // SESSION_TRACK_SYSTEM_VARIABLES, in order: (name, value).
  std::vector<std::pair<std::string, std::string>> system_variables;
  std::optional<std::string> schema;             // SESSION_TRACK_SCHEMA
  bool state_changed = false;                    // SESSION_TRACK_STATE_CHANGE: entry data is the byte '1'
  std::vector<std::string> gtids;                // SESSION_TRACK_GTIDS (raw entry data)
  std::optional<std::string> transaction_characteristics;  // SESSION_TRACK_TRANSACTION_CHARACTERISTICS
  std::optional<std::string> transaction_state;            // SESSION_TRACK_TRANSACTION_STATE (MariaDB: _TYPE)

  bool operator==(const SessionStateChanges&) const = default;
};

// Parses the session-state block: a lenenc total length followed by entries
// (type byte, lenenc entry data). Unknown entry types are skipped.
// Consumes exactly the block.
[[nodiscard]] Result<SessionStateChanges> ParseSessionStateChanges(ByteReader& in);
// Writes the block including its lenenc total length.
void WriteSessionStateChanges(const SessionStateChanges& s, ByteWriter& out);

}  // namespace cutover::protocol
