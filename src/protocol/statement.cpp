#include "protocol/statement.h"

#include <cassert>

#include <fmt/format.h>

#include "protocol/constants.h"

namespace cutover::protocol {

Result<StmtPrepareOk> ParseStmtPrepareOk(ByteReader& in) {
  StmtPrepareOk p;
  auto id = in.U32();
  if (!id) return Fail(id.error());
  p.statement_id = *id;
  auto columns = in.U16();
  if (!columns) return Fail(columns.error());
  p.num_columns = *columns;
  auto params = in.U16();
  if (!params) return Fail(params.error());
  p.num_params = *params;
  auto reserved = in.U8();
  if (!reserved) return Fail(reserved.error());
  auto warnings = in.U16();
  if (!warnings) return Fail(warnings.error());
  p.warnings = *warnings;
  if (auto end = in.ExpectEnd("COM_STMT_PREPARE_OK"); !end) return Fail(end.error());
  return p;
}

void WriteStmtPrepareOk(const StmtPrepareOk& p, Bytes& out) {
  ByteWriter w(out);
  w.U8(kOkHeader);
  w.U32(p.statement_id);
  w.U16(p.num_columns);
  w.U16(p.num_params);
  w.U8(0);
  w.U16(p.warnings);
}

namespace {

// The command byte, which must be `expected` (named `name` in errors), and the statement id after it.
Result<uint32_t> ParseStatementCommand(ByteReader& r, Command expected, std::string_view name) {
  auto command = r.U8();
  if (!command) return Fail(command.error());
  if (*command != uint8_t(expected)) {
    return Fail(Error::Malformed(fmt::format("expected {}, got command 0x{:02x}", name, *command)));
  }
  return r.U32();
}

}  // namespace

Result<StmtExecuteHead> ParseStmtExecuteHead(ByteView payload, uint16_t num_params) {
  ByteReader r(payload);
  auto id = ParseStatementCommand(r, Command::kStmtExecute, "COM_STMT_EXECUTE");
  if (!id) return Fail(id.error());
  StmtExecuteHead h;
  h.statement_id = *id;
  auto flags = r.U8();
  if (!flags) return Fail(flags.error());
  h.flags = *flags;
  auto iterations = r.U32();
  if (!iterations) return Fail(iterations.error());
  h.iteration_count = *iterations;
  if (num_params == 0) return h;

  h.null_bitmap_offset = r.position();
  if (auto bitmap = r.Fixed((size_t(num_params) + 7) / 8); !bitmap) return Fail(bitmap.error());
  auto bound = r.U8();
  if (!bound) return Fail(bound.error());
  if (*bound > 1) return Fail(Error::Malformed(fmt::format("new_params_bound_flag is {}", *bound)));
  h.new_params_bound = *bound == 1;
  if (h.new_params_bound) {
    h.types_offset = r.position();
    if (auto types = r.Fixed(2 * size_t(num_params)); !types) return Fail(types.error());
  }
  return h;
}

Result<StmtBulkExecuteHead> ParseStmtBulkExecuteHead(ByteView payload, uint16_t num_params) {
  ByteReader r(payload);
  auto id = ParseStatementCommand(r, Command::kStmtBulkExecute, "COM_STMT_BULK_EXECUTE");
  if (!id) return Fail(id.error());
  StmtBulkExecuteHead h;
  h.statement_id = *id;
  auto flags = r.U16();
  if (!flags) return Fail(flags.error());
  h.flags = *flags;
  if (h.flags & kBulkSendTypesToServer) {
    h.types_offset = r.position();
    if (auto types = r.Fixed(2 * size_t(num_params)); !types) return Fail(types.error());
  }
  return h;
}

Bytes AddBulkExecuteTypes(ByteView payload, ByteView types) {
  assert(payload.size() >= kBulkExecuteHeadLength && !(LoadU16(payload.data() + 5) & kBulkSendTypesToServer));
  Bytes out(payload.begin(), payload.begin() + kBulkExecuteHeadLength);
  out[5] |= kBulkSendTypesToServer;
  out.insert(out.end(), types.begin(), types.end());
  out.insert(out.end(), payload.begin() + kBulkExecuteHeadLength, payload.end());
  return out;
}

}  // namespace cutover::protocol
