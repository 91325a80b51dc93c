#include "protocol/frame.h"

#include <algorithm>

#include <fmt/format.h>

namespace cutover::protocol {

FrameHeader ParseFrameHeader(const uint8_t* p) { return {LoadU24(p), p[3]}; }

void WriteFrameHeader(const FrameHeader& h, uint8_t* p) {
  p[0] = uint8_t(h.payload_length);
  p[1] = uint8_t(h.payload_length >> 8);
  p[2] = uint8_t(h.payload_length >> 16);
  p[3] = h.sequence_id;
}

Result<Packet> DecodePacket(ByteView in, size_t max_payload, size_t* consumed) {
  // First walk the headers only, so that a packet still arriving is not copied
  // again on every call and an oversized one is refused before it is buffered.
  size_t pos = 0;
  size_t total = 0;
  size_t frames = 0;
  uint8_t first_seq = 0;
  uint8_t last_seq = 0;
  while (true) {
    if (in.size() - pos < kFrameHeaderSize) return Fail(Error::Incomplete());
    const FrameHeader h = ParseFrameHeader(in.data() + pos);
    if (frames == 0) {
      first_seq = h.sequence_id;
    } else if (h.sequence_id != uint8_t(last_seq + 1)) {
      return Fail(Error::Malformed(fmt::format("packet continuation frame has sequence id {} after {}",
                                               h.sequence_id, last_seq)));
    }
    last_seq = h.sequence_id;
    ++frames;
    total += h.payload_length;
    if (total > max_payload) {
      return Fail(Error::Malformed(fmt::format("packet of at least {} bytes exceeds the limit of {} bytes",
                                               total, max_payload)));
    }
    pos += kFrameHeaderSize;
    if (in.size() - pos < h.payload_length) return Fail(Error::Incomplete());
    pos += h.payload_length;
    // A full frame means the payload continues, even if only with an empty frame.
    if (h.payload_length < kMaxFramePayload) break;
  }

  Packet packet;
  packet.sequence_id = first_seq;
  packet.last_sequence_id = last_seq;
  packet.payload.reserve(total);
  size_t at = 0;
  for (size_t i = 0; i < frames; ++i) {
    const uint32_t len = LoadU24(in.data() + at);
    at += kFrameHeaderSize;
    packet.payload.insert(packet.payload.end(), in.begin() + at, in.begin() + at + len);
    at += len;
  }
  *consumed = pos;
  return packet;
}

void EncodePacket(ByteView payload, uint8_t* sequence_id, Bytes& out) {
  const size_t frames = payload.size() / kMaxFramePayload + 1;
  out.reserve(out.size() + payload.size() + frames * kFrameHeaderSize);
  size_t offset = 0;
  while (true) {
    const size_t len = std::min<size_t>(payload.size() - offset, kMaxFramePayload);
    uint8_t header[kFrameHeaderSize];
    WriteFrameHeader({uint32_t(len), (*sequence_id)++}, header);
    out.insert(out.end(), header, header + kFrameHeaderSize);
    out.insert(out.end(), payload.begin() + offset, payload.begin() + offset + len);
    offset += len;
    if (len < kMaxFramePayload) break;  // a payload of N*0xFFFFFF bytes ends with an empty frame
  }
}

}  // namespace cutover::protocol
