// ParseEofPacket on the payload after the 0xFE header; it is a fixed 4-byte
// body, so a parse succeeds exactly on 4 bytes and write(parse(x)) == x.
#include "fuzz_util.h"
#include "protocol/eof_packet.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(ByteView(data, size));
  auto eof = ParseEofPacket(in);
  FUZZ_CHECK(eof.has_value() == (size == 4));
  if (!eof) {
    const ErrorCode code = eof.error().code();
    FUZZ_CHECK(code == ErrorCode::kIncomplete || code == ErrorCode::kMalformed);
    return 0;
  }
  Bytes encoded;
  WriteEofPacket(*eof, encoded);
  FUZZ_CHECK(encoded.size() == 5 && encoded[0] == kEofHeader);
  FUZZ_CHECK(std::equal(encoded.begin() + 1, encoded.end(), data));
  return 0;
}
