// ParseErrPacket on the payload after the 0xFF header, and
// parse(write(parse(x))) == parse(x).
#include "fuzz_util.h"
#include "protocol/err_packet.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(ByteView(data, size));
  auto err = ParseErrPacket(in);
  if (!err) {
    const ErrorCode code = err.error().code();
    FUZZ_CHECK(code == ErrorCode::kIncomplete || code == ErrorCode::kMalformed || code == ErrorCode::kUnsupported);
    return 0;
  }
  FUZZ_CHECK(in.empty());  // the message is the rest of the packet
  FUZZ_CHECK(err->sql_state.size() == 5);
  FUZZ_CHECK(err->error_code != 0xffff);  // progress reports are not errors
  FUZZ_CHECK(2 + err->message.size() <= size);

  Bytes encoded;
  WriteErrPacket(*err, encoded);
  FUZZ_CHECK(!encoded.empty() && encoded[0] == kErrHeader);
  ByteReader again_in(ByteView(encoded).subspan(1));
  auto again = ParseErrPacket(again_in);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->error_code == err->error_code && again->sql_state == err->sql_state &&
             again->message == err->message);
  return 0;
}
