// ParseOkPacket under capabilities taken from the first 4 input bytes; the
// rest is the payload after the header byte. Checks that a parse consumes the
// whole payload and that parse(write(parse(x))) == parse(x) under the same
// capabilities, for both header bytes (0x00 and 0xFE).
#include "fuzz_util.h"
#include "protocol/ok_packet.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const Capabilities caps = fuzz::CapsFrom(data);
  ByteReader in(ByteView(data + 4, size - 4));
  auto ok = ParseOkPacket(in, caps);
  if (!ok) {
    const ErrorCode code = ok.error().code();
    FUZZ_CHECK(code == ErrorCode::kIncomplete || code == ErrorCode::kMalformed);
    return 0;
  }
  FUZZ_CHECK(in.empty());  // trailing bytes are rejected
  FUZZ_CHECK(ok->info.size() <= size);
  // The block is there exactly when the flag says so (with session tracking).
  if (caps & capability::kSessionTrack) {
    FUZZ_CHECK(ok->session_state.has_value() == ((ok->status_flags & status::kSessionStateChanged) != 0));
  } else {
    FUZZ_CHECK(!ok->session_state.has_value());
  }

  for (uint8_t header : {kOkHeader, kEofHeader}) {
    Bytes encoded;
    WriteOkPacket(*ok, caps, header, encoded);
    FUZZ_CHECK(!encoded.empty() && encoded[0] == header);
    ByteReader again_in(ByteView(encoded).subspan(1));
    auto again = ParseOkPacket(again_in, caps);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*ok == *again);
  }
  return 0;
}
