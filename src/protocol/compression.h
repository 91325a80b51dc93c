// The compressed protocol (MySQL page_protocol_basic_compression), zlib only:
// a 7-byte header (int<3> compressed length, int<1> compressed sequence id,
// int<3> uncompressed length, 0 meaning stored raw) before a zlib stream that
// holds part of one packet or several packets.
//
// The proxy terminates compression on the client side and speaks plaintext to
// servers, so the decoder also re-stamps the sequence ids of the packets inside
// (Connector/C writes 0 on every frame of a command when it compresses, and a
// server checks them): a command starts at 0, and a packet the client sends
// after the proxy's continues from the last id the proxy sent.
// Sans-io. Thread-safety: none; one codec per connection.
#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.h"

namespace cutover::protocol {

inline constexpr size_t kCompressedHeaderSize = 7;
// Payloads shorter than this are stored raw (Connector/C's MIN_COMPRESS_LENGTH).
inline constexpr size_t kMinCompressLength = 50;
// zlib level 1: the proxy shares its CPU with the database.
inline constexpr int kZlibLevel = 1;

// Follows the frame headers of a packet byte stream that arrives in pieces,
// to reach the sequence-id byte of every frame.
class FrameCursor {
 public:
  // Calls on_sequence(byte) with the sequence-id byte of each frame header
  // that ends inside `bytes`; Byte is uint8_t (to change it) or const uint8_t.
  template <class Byte, class F>
  void Walk(std::span<Byte> bytes, F on_sequence) {
    size_t i = 0;
    while (i < bytes.size()) {
      if (payload_left_ > 0) {
        const size_t skip = std::min<uint64_t>(payload_left_, bytes.size() - i);
        i += skip;
        payload_left_ -= skip;
      } else if (header_have_ < 3) {
        length_ |= uint32_t(bytes[i++]) << (8 * header_have_++);
      } else {
        on_sequence(bytes[i++]);
        payload_left_ = length_;
        header_have_ = 0;
        length_ = 0;
      }
    }
  }

 private:
  uint32_t header_have_ = 0;   // length bytes of the current header seen so far
  uint32_t length_ = 0;        // the current header's payload length, as far as seen
  uint64_t payload_left_ = 0;  // payload bytes of the current frame still to come
};

class CompressionCodec {
 public:
  // Decodes the whole compressed frames at the front of `in`, appending their
  // plain bytes to `out`, and returns how many bytes of `in` they took (0 when
  // no frame is whole yet). Errors (kMalformed): bad zlib data, or a frame
  // whose inflated size differs from its header's.
  [[nodiscard]] Result<size_t> Decode(ByteView in, Bytes& out);

  // Appends `plain` (packet bytes, possibly a part of a packet) as compressed
  // frames to `out`, numbered on from the client's last frame.
  void Encode(ByteView plain, Bytes& out);

 private:
  uint8_t compressed_seq_ = 0;  // of the next frame the proxy sends
  uint8_t inner_seq_ = 0;       // the next client packet's sequence id, as a server expects it
  FrameCursor from_client_;     // packets inside the client's frames
  FrameCursor to_client_;       // packets inside the proxy's frames
};

}  // namespace cutover::protocol
