#include "protocol/eof_packet.h"

#include "protocol/constants.h"

namespace cutover::protocol {

Result<EofPacket> ParseEofPacket(ByteReader& in) {
  EofPacket p;
  auto warnings = in.U16();
  if (!warnings) return Fail(warnings.error());
  p.warnings = *warnings;
  auto flags = in.U16();
  if (!flags) return Fail(flags.error());
  p.status_flags = *flags;
  if (auto end = in.ExpectEnd("EOF packet"); !end) return Fail(end.error());
  return p;
}

void WriteEofPacket(const EofPacket& p, Bytes& out) {
  ByteWriter w(out);
  w.U8(kEofHeader);
  w.U16(p.warnings);
  w.U16(p.status_flags);
}

}  // namespace cutover::protocol
