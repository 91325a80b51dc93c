#include "protocol/err_packet.h"

#include <cassert>

namespace cutover::protocol {

namespace {
constexpr uint16_t kProgressReport = 0xffff;  // MariaDB progress report, not an error
constexpr size_t kSqlStateLength = 5;
}  // namespace

Result<ErrPacket> ParseErrPacket(ByteReader& in) {
  ErrPacket p;
  auto code = in.U16();
  if (!code) return Fail(code.error());
  if (*code == kProgressReport) return Fail(Error::Unsupported("MariaDB progress report packet"));
  p.error_code = *code;
  // Servers always send a message; a packet ending here was cut short.
  if (in.empty()) return Fail(Error::Malformed("ERR packet ends after its error code"));
  if (!in.empty() && in.rest()[0] == '#') {
    (void)in.U8();
    auto state = in.FixedString(kSqlStateLength);
    if (!state) return Fail(state.error());
    p.sql_state = std::move(*state);
  }
  p.message = in.RestString();
  return p;
}

void WriteErrPacket(const ErrPacket& p, Bytes& out) {
  assert(p.sql_state.size() == kSqlStateLength);
  ByteWriter w(out);
  w.U8(kErrHeader);
  w.U16(p.error_code);
  w.U8('#');
  w.Raw(p.sql_state);
  w.Raw(p.message);
}

}  // namespace cutover::protocol
