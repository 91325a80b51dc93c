#include "protocol/compression.h"

#include <algorithm>

#include <fmt/format.h>
#include <zlib.h>

namespace cutover::protocol {
namespace {

constexpr uint32_t kMaxFrameLength = 0xffffff;

void StoreU24(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
  p[2] = uint8_t(v >> 16);
}

// Inflates `payload` into `into`, which has exactly the header's size.
Status Inflate(ByteView payload, std::span<uint8_t> into) {
  uLongf out_size = into.size();
  uLong in_size = payload.size();
  const int rc = uncompress2(into.data(), &out_size, payload.data(), &in_size);
  if (rc == Z_BUF_ERROR && out_size == into.size()) {
    return Fail(Error::Malformed(fmt::format("compressed frame inflates past its {} bytes", into.size())));
  }
  if (rc != Z_OK) return Fail(Error::Malformed(fmt::format("compressed frame: zlib error {}", rc)));
  if (out_size != into.size()) {
    return Fail(Error::Malformed(fmt::format("compressed frame inflates to {} bytes, not {}", out_size, into.size())));
  }
  if (in_size != payload.size()) return Fail(Error::Malformed("compressed frame: bytes after the zlib stream"));
  return Status{};
}

}  // namespace

Result<size_t> CompressionCodec::Decode(ByteView in, Bytes& out) {
  size_t used = 0;
  while (in.size() - used >= kCompressedHeaderSize) {
    const uint8_t* header = in.data() + used;
    const uint32_t length = LoadU24(header);
    const uint8_t seq = header[3];
    const uint32_t plain_length = LoadU24(header + 4);
    if (in.size() - used - kCompressedHeaderSize < length) break;
    const ByteView payload = in.subspan(used + kCompressedHeaderSize, length);
    const size_t start = out.size();
    if (plain_length == 0) {
      out.insert(out.end(), payload.begin(), payload.end());
    } else {
      out.resize(start + plain_length);
      if (auto st = Inflate(payload, std::span(out).subspan(start)); !st) {
        out.resize(start);
        return Fail(st.error());
      }
    }
    used += kCompressedHeaderSize + length;
    // The client numbers each command's frames from 0.
    if (seq == 0) inner_seq_ = 0;
    compressed_seq_ = uint8_t(seq + 1);
    from_client_.Walk(std::span(out).subspan(start), [this](uint8_t& s) { s = inner_seq_++; });
  }
  return used;
}

void CompressionCodec::Encode(ByteView plain, Bytes& out) {
  while (!plain.empty()) {
    const ByteView chunk = plain.first(std::min<size_t>(plain.size(), kMaxFrameLength));
    plain = plain.subspan(chunk.size());
    to_client_.Walk(chunk, [this](uint8_t s) { inner_seq_ = uint8_t(s + 1); });
    const size_t start = out.size();
    uLongf packed = 0;
    if (chunk.size() >= kMinCompressLength) {
      packed = compressBound(chunk.size());
      out.resize(start + kCompressedHeaderSize + packed);
      const int rc = compress2(out.data() + start + kCompressedHeaderSize, &packed, chunk.data(), chunk.size(),
                               kZlibLevel);
      // Stored raw when zlib fails or does not shrink the chunk.
      if (rc != Z_OK || packed >= chunk.size()) packed = 0;
    }
    out.resize(start + kCompressedHeaderSize + packed);
    if (packed == 0) out.insert(out.end(), chunk.begin(), chunk.end());
    uint8_t* header = out.data() + start;
    StoreU24(header, packed ? uint32_t(packed) : uint32_t(chunk.size()));
    header[3] = compressed_seq_++;
    StoreU24(header + 4, packed ? uint32_t(chunk.size()) : 0);
  }
}

}  // namespace cutover::protocol
