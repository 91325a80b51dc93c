// ParseSessionStateChanges on arbitrary bytes: it consumes exactly the block
// on success and nothing on failure, and parse(write(parse(x))) == parse(x).
#include "fuzz_util.h"
#include "protocol/session_state.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(ByteView(data, size));
  auto state = ParseSessionStateChanges(in);
  if (!state) {
    const ErrorCode code = state.error().code();
    FUZZ_CHECK(code == ErrorCode::kIncomplete || code == ErrorCode::kMalformed);
    FUZZ_CHECK(in.position() == 0);  // nothing consumed on failure
    return 0;
  }
  FUZZ_CHECK(in.position() >= 1 && in.position() <= size);

  Bytes encoded;
  ByteWriter w(encoded);
  WriteSessionStateChanges(*state, w);
  ByteReader again_in(encoded);
  auto again = ParseSessionStateChanges(again_in);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again_in.empty());
  FUZZ_CHECK(*state == *again);
  return 0;
}
