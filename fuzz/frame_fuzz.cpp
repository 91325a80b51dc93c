// DecodePacket on arbitrary bytes. The first input byte picks the payload
// limit; the rest is the stream. Checks: what is consumed is inside the
// input and is exactly headers plus payload; re-encoding the packet gives back
// the consumed bytes; one byte less is "incomplete"; errors are only
// kIncomplete or kMalformed.
#include <limits>

#include "fuzz_util.h"
#include "protocol/frame.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t max_payload = data[0] == 0xff ? std::numeric_limits<size_t>::max() : size_t(data[0]) * 16;
  const ByteView in(data + 1, size - 1);

  if (in.size() >= kFrameHeaderSize) {
    const FrameHeader h = ParseFrameHeader(in.data());
    uint8_t again[kFrameHeaderSize];
    WriteFrameHeader(h, again);
    FUZZ_CHECK(std::equal(again, again + kFrameHeaderSize, in.data()));
  }

  size_t consumed = 0;
  auto packet = DecodePacket(in, max_payload, &consumed);
  if (!packet) {
    const ErrorCode code = packet.error().code();
    FUZZ_CHECK(code == ErrorCode::kIncomplete || code == ErrorCode::kMalformed);
    return 0;
  }
  FUZZ_CHECK(consumed >= kFrameHeaderSize && consumed <= in.size());
  FUZZ_CHECK(packet->payload.size() <= max_payload);
  const size_t frames = packet->payload.size() / kMaxFramePayload + 1;
  FUZZ_CHECK(consumed == packet->payload.size() + frames * kFrameHeaderSize);
  FUZZ_CHECK(uint8_t(packet->sequence_id + frames - 1) == packet->last_sequence_id);

  Bytes encoded;
  uint8_t seq = packet->sequence_id;
  EncodePacket(packet->payload, &seq, encoded);
  FUZZ_CHECK(seq == uint8_t(packet->last_sequence_id + 1));
  FUZZ_CHECK(encoded.size() == consumed && std::equal(encoded.begin(), encoded.end(), in.begin()));

  size_t shorter_consumed = 0;
  auto shorter = DecodePacket(in.first(consumed - 1), max_payload, &shorter_consumed);
  FUZZ_CHECK(!shorter && shorter.error().code() == ErrorCode::kIncomplete);
  return 0;
}
