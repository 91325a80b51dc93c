// Prepared-statement packets: COM_STMT_PREPARE_OK and the parts of
// COM_STMT_EXECUTE a proxy needs to read or rewrite. Sans-io.
// Thread-safety: plain values.
#pragma once

#include <optional>

#include "common/bytes.h"

namespace cutover::protocol {

// COM_STMT_PREPARE_OK, in the documentation's field order.
struct StmtPrepareOk {
  uint32_t statement_id = 0;
  uint16_t num_columns = 0;
  uint16_t num_params = 0;
  uint16_t warnings = 0;
};
// Byte offset of statement_id within the payload (after the 0x00 header).
inline constexpr size_t kPrepareOkStatementIdOffset = 1;

// Parses the payload after the 0x00 header byte (11 bytes; a shorter form
// without warnings, 8 bytes... is malformed). Rejects trailing bytes.
[[nodiscard]] Result<StmtPrepareOk> ParseStmtPrepareOk(ByteReader& in);
// Writes the payload including the 0x00 header byte.
void WriteStmtPrepareOk(const StmtPrepareOk& p, Bytes& out);

// The statement id of COM_STMT_EXECUTE, _SEND_LONG_DATA, _CLOSE, _RESET and
// _FETCH sits at payload bytes 1..4, right after the command byte.
inline constexpr size_t kStatementIdOffset = 1;

// COM_STMT_EXECUTE's head: what a proxy needs to re-send parameter types to a
// server that never saw them (after a session moved).
struct StmtExecuteHead {
  uint32_t statement_id = 0;
  uint8_t flags = 0;            // cursor type
  uint32_t iteration_count = 0;
  // Present when num_params > 0.
  size_t null_bitmap_offset = 0;  // payload offset of the NULL bitmap
  bool new_params_bound = false;
  size_t types_offset = 0;        // payload offset of the 2*num_params type bytes, if new_params_bound
};
// Parses the head of a whole COM_STMT_EXECUTE payload (command byte first).
// num_params comes from the statement's StmtPrepareOk.
[[nodiscard]] Result<StmtExecuteHead> ParseStmtExecuteHead(ByteView payload, uint16_t num_params);

// COM_STMT_BULK_EXECUTE's head (MariaDB): int<1> 0xFA, int<4> statement id,
// int<2> flags, then with kBulkSendTypesToServer 2 bytes per parameter (type,
// 0x80 for unsigned: as in COM_STMT_EXECUTE), then the rows' indicators and
// values to the end of the packet.
struct StmtBulkExecuteHead {
  uint32_t statement_id = 0;
  uint16_t flags = 0;
  size_t types_offset = 0;  // payload offset of the 2*num_params type bytes, with kBulkSendTypesToServer
};
// Where the types go (or start), right after the flags.
inline constexpr size_t kBulkExecuteHeadLength = 7;
// Parses the head at the start of a COM_STMT_BULK_EXECUTE payload, which may
// be only its first bytes; the rows are not read.
[[nodiscard]] Result<StmtBulkExecuteHead> ParseStmtBulkExecuteHead(ByteView payload, uint16_t num_params);
// The same bulk execute with parameter types, for a server that has not seen
// them (Connector/C sends them only on the first execute after binding).
// REQUIRES: `payload`'s head parsed without kBulkSendTypesToServer.
[[nodiscard]] Bytes AddBulkExecuteTypes(ByteView payload, ByteView types);

}  // namespace cutover::protocol
