// Packet framing: a 4-byte header (3-byte payload length, 1-byte sequence id)
// before every payload. A payload of 0xFFFFFF bytes or more is split into
// frames of 0xFFFFFF bytes followed by a shorter frame (possibly empty).
// Sans-io. Thread-safety: free functions on caller-owned data.
#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.h"

namespace cutover::protocol {

inline constexpr size_t kFrameHeaderSize = 4;
inline constexpr uint32_t kMaxFramePayload = 0xffffff;

struct FrameHeader {
  uint32_t payload_length = 0;
  uint8_t sequence_id = 0;
};

// REQUIRES: p points at kFrameHeaderSize readable bytes.
FrameHeader ParseFrameHeader(const uint8_t* p);
// REQUIRES: p points at kFrameHeaderSize writable bytes; h.payload_length <= kMaxFramePayload.
void WriteFrameHeader(const FrameHeader& h, uint8_t* p);

// One logical packet with its frames joined.
struct Packet {
  uint8_t sequence_id = 0;  // of the first frame
  uint8_t last_sequence_id = 0;  // of the last frame (equal unless split)
  Bytes payload;
};

// Decodes one logical packet from the front of `in`.
// On success sets *consumed to the bytes used (headers included).
// Errors: kIncomplete when `in` ends before the packet does;
// kMalformed when the payload would exceed max_payload bytes.
[[nodiscard]] Result<Packet> DecodePacket(ByteView in, size_t max_payload, size_t* consumed);

// Appends `payload` framed as one logical packet, starting at *sequence_id and
// advancing it past the last frame written (wrapping at 256).
void EncodePacket(ByteView payload, uint8_t* sequence_id, Bytes& out);

}  // namespace cutover::protocol
