// COM_STMT_PREPARE_OK and the head of COM_STMT_EXECUTE. The first 2 input
// bytes are the statement's parameter count; the rest is parsed both as a
// COM_STMT_PREPARE_OK body and as a COM_STMT_EXECUTE payload. Checks the
// round trip of the first and that every offset of the second is inside the
// payload with its bytes there.
#include "fuzz_util.h"
#include "protocol/statement.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint16_t num_params = LoadU16(data);
  const ByteView payload(data + 2, size - 2);

  ByteReader in(payload);
  auto ok = ParseStmtPrepareOk(in);
  FUZZ_CHECK(ok.has_value() == (payload.size() == 11));
  if (ok) {
    Bytes encoded;
    WriteStmtPrepareOk(*ok, encoded);
    FUZZ_CHECK(encoded.size() == 12 && encoded[0] == kOkHeader);
    FUZZ_CHECK(LoadU32(encoded.data() + kPrepareOkStatementIdOffset) == ok->statement_id);
    ByteReader again_in(ByteView(encoded).subspan(1));
    auto again = ParseStmtPrepareOk(again_in);
    FUZZ_CHECK(again && again->statement_id == ok->statement_id && again->num_columns == ok->num_columns &&
               again->num_params == ok->num_params && again->warnings == ok->warnings);
  } else {
    FUZZ_CHECK(ok.error().code() == ErrorCode::kIncomplete || ok.error().code() == ErrorCode::kMalformed);
  }

  auto head = ParseStmtExecuteHead(payload, num_params);
  if (!head) {
    FUZZ_CHECK(head.error().code() == ErrorCode::kIncomplete || head.error().code() == ErrorCode::kMalformed);
    return 0;
  }
  FUZZ_CHECK(payload.size() >= 10 && payload[0] == uint8_t(Command::kStmtExecute));
  FUZZ_CHECK(head->statement_id == LoadU32(payload.data() + kStatementIdOffset));
  if (num_params > 0) {
    const size_t bitmap = (size_t(num_params) + 7) / 8;
    FUZZ_CHECK(head->null_bitmap_offset == 10);
    FUZZ_CHECK(head->null_bitmap_offset + bitmap + 1 <= payload.size());
    FUZZ_CHECK(payload[head->null_bitmap_offset + bitmap] == (head->new_params_bound ? 1 : 0));
    if (head->new_params_bound) {
      FUZZ_CHECK(head->types_offset == head->null_bitmap_offset + bitmap + 1);
      FUZZ_CHECK(head->types_offset + 2 * size_t(num_params) <= payload.size());
    }
  }
  return 0;
}
