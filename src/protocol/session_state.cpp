#include "protocol/session_state.h"

#include <fmt/format.h>

#include "protocol/constants.h"

namespace cutover::protocol {
namespace {

// Inside a block whose length was already checked, running short is not
// "incomplete": the block lied about its size.
Error InsideBlock(const Error& e, std::string_view what) {
  return Error::Malformed(fmt::format("session state {}: {}", what, e.message()));
}

Status ParseSystemVariables(ByteReader& data, SessionStateChanges& out) {
  // One variable per entry in practice; several are accepted.
  while (!data.empty()) {
    auto name = data.LenencString();
    if (!name) return Fail(InsideBlock(name.error(), "system variable name"));
    auto value = data.LenencString();
    if (!value) return Fail(InsideBlock(value.error(), "system variable value"));
    out.system_variables.emplace_back(std::move(*name), std::move(*value));
  }
  return {};
}

// Entries whose data is exactly one lenenc string.
Status ParseStringEntry(ByteReader& data, std::string_view what, std::optional<std::string>& target) {
  auto s = data.LenencString();
  if (!s) return Fail(InsideBlock(s.error(), what));
  if (auto end = data.ExpectEnd(fmt::format("session state {}", what)); !end) return Fail(end.error());
  target = std::move(*s);
  return {};
}

// Servers send the bare byte '1' as the entry data (MariaDB 10.11 and MySQL
// alike), not a lenenc string; a lenenc "1" is accepted too.
Status ParseStateChange(ByteView entry, SessionStateChanges& out) {
  out.state_changed = AsChars(entry) == "1" || AsChars(entry) == std::string_view("\x01" "1", 2);
  return {};
}

// GTID entries keep their raw data (an encoding byte, then the GTIDs).
Status ParseGtids(ByteView entry, SessionStateChanges& out) {
  out.gtids.emplace_back(AsChars(entry));
  return {};
}

Status ParseEntry(uint8_t type, ByteView entry, SessionStateChanges& out) {
  ByteReader data(entry);
  switch (SessionTrackType(type)) {
    case SessionTrackType::kSystemVariables:
      return ParseSystemVariables(data, out);
    case SessionTrackType::kSchema:
      return ParseStringEntry(data, "schema", out.schema);
    case SessionTrackType::kStateChange:
      return ParseStateChange(entry, out);
    case SessionTrackType::kGtids:
      return ParseGtids(entry, out);
    case SessionTrackType::kTransactionCharacteristics:
      return ParseStringEntry(data, "transaction characteristics", out.transaction_characteristics);
    case SessionTrackType::kTransactionState:
      return ParseStringEntry(data, "transaction state", out.transaction_state);
  }
  return {};  // unknown types are skipped: the entry length already passed over them
}

void WriteEntry(SessionTrackType type, std::string_view data, ByteWriter& out) {
  out.U8(uint8_t(type));
  out.LenencString(data);
}

std::string Lenenc(std::string_view s) {
  Bytes b;
  ByteWriter w(b);
  w.LenencString(s);
  return std::string(AsChars(b));
}

}  // namespace

Result<SessionStateChanges> ParseSessionStateChanges(ByteReader& in) {
  ByteReader r = in;  // commit the position only on success
  auto total = r.LenencInt();
  if (!total) return Fail(total.error());
  if (*total > r.remaining()) return Fail(Error::Incomplete());
  auto block_bytes = r.Fixed(size_t(*total));
  if (!block_bytes) return Fail(block_bytes.error());

  SessionStateChanges out;
  ByteReader block(*block_bytes);
  while (!block.empty()) {
    auto type = block.U8();
    if (!type) return Fail(InsideBlock(type.error(), "entry type"));
    auto len = block.LenencInt();
    if (!len) return Fail(InsideBlock(len.error(), "entry length"));
    if (*len > block.remaining()) return Fail(Error::Malformed("session state entry overruns its block"));
    auto entry = block.Fixed(size_t(*len));
    if (!entry) return Fail(InsideBlock(entry.error(), "entry"));
    if (auto st = ParseEntry(*type, *entry, out); !st) return Fail(st.error());
  }
  in = r;
  return out;
}

void WriteSessionStateChanges(const SessionStateChanges& s, ByteWriter& out) {
  Bytes block;
  ByteWriter w(block);
  for (const auto& [name, value] : s.system_variables) {
    WriteEntry(SessionTrackType::kSystemVariables, Lenenc(name) + Lenenc(value), w);
  }
  if (s.schema) WriteEntry(SessionTrackType::kSchema, Lenenc(*s.schema), w);
  if (s.state_changed) WriteEntry(SessionTrackType::kStateChange, "1", w);
  for (const auto& g : s.gtids) WriteEntry(SessionTrackType::kGtids, g, w);
  if (s.transaction_characteristics) {
    WriteEntry(SessionTrackType::kTransactionCharacteristics, Lenenc(*s.transaction_characteristics), w);
  }
  if (s.transaction_state) WriteEntry(SessionTrackType::kTransactionState, Lenenc(*s.transaction_state), w);
  out.LenencInt(block.size());
  out.Raw(block);
}

}  // namespace cutover::protocol
