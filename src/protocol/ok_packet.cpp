#include "protocol/ok_packet.h"

namespace cutover::protocol {
namespace {

// The tail after the status and warnings when CLIENT_SESSION_TRACK is on.
Status ParseTrackedTail(ByteReader& in, OkPacket& p) {
  // Servers omit the info entirely when nothing follows the warnings.
  if (in.empty()) {
    if (p.status_flags & status::kSessionStateChanged) return Fail(Error::Incomplete());
    return {};
  }
  auto info = in.LenencString();
  if (!info) return Fail(info.error());
  p.info = std::move(*info);
  if (p.status_flags & status::kSessionStateChanged) {
    auto state = ParseSessionStateChanges(in);
    if (!state) return Fail(state.error());
    p.session_state = std::move(*state);
  }
  return {};
}

}  // namespace

Result<OkPacket> ParseOkPacket(ByteReader& in, Capabilities caps) {
  OkPacket p;
  auto affected = in.LenencInt();
  if (!affected) return Fail(affected.error());
  p.affected_rows = *affected;
  auto id = in.LenencInt();
  if (!id) return Fail(id.error());
  p.last_insert_id = *id;
  if (caps & (capability::kProtocol41 | capability::kTransactions)) {
    auto flags = in.U16();
    if (!flags) return Fail(flags.error());
    p.status_flags = *flags;
  }
  if (caps & capability::kProtocol41) {
    auto warnings = in.U16();
    if (!warnings) return Fail(warnings.error());
    p.warnings = *warnings;
  }
  if (caps & capability::kSessionTrack) {
    if (auto tail = ParseTrackedTail(in, p); !tail) return Fail(tail.error());
  } else if (!in.empty()) {
    // The protocol documentation says string<EOF> here, but MariaDB and MySQL
    // both write a length-encoded string (net_store_data), and mysqlnd reads
    // one: "Rows matched: 1 ..." arrives as 0x28 then the text.
    auto info = in.LenencString();
    if (!info) return Fail(info.error());
    p.info = std::move(*info);
  }
  if (auto end = in.ExpectEnd("OK packet"); !end) return Fail(end.error());
  return p;
}

void WriteOkPacket(const OkPacket& p, Capabilities caps, uint8_t header, Bytes& out) {
  ByteWriter w(out);
  const bool tracked = (caps & capability::kSessionTrack) != 0;
  uint16_t flags = p.status_flags;
  // The flag is what tells a reader the block is there, so it must match.
  if (tracked) {
    flags &= uint16_t(~status::kSessionStateChanged);
    if (p.session_state) flags |= status::kSessionStateChanged;
  }
  w.U8(header);
  w.LenencInt(p.affected_rows);
  w.LenencInt(p.last_insert_id);
  if (caps & (capability::kProtocol41 | capability::kTransactions)) w.U16(flags);
  if (caps & capability::kProtocol41) w.U16(p.warnings);
  if (!tracked) {
    if (!p.info.empty()) w.LenencString(p.info);
    return;
  }
  if (!p.info.empty() || p.session_state) w.LenencString(p.info);
  if (p.session_state) WriteSessionStateChanges(*p.session_state, w);
}

}  // namespace cutover::protocol
