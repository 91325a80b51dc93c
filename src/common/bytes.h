// Cursor-style reading and appending of little-endian wire data.
//
// ByteReader walks a borrowed span; every getter either consumes and returns
// the value or fails without consuming (kIncomplete when the span ends early,
// kMalformed when the bytes can never be valid). Nothing is ever decoded as
// zeros. ByteWriter appends to a caller-owned vector.
// Thread-safety: none; each object is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace cutover {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  size_t position() const { return pos_; }
  ByteView rest() const { return data_.subspan(pos_); }

  Result<uint8_t> U8();
  Result<uint16_t> U16();
  Result<uint32_t> U24();
  Result<uint32_t> U32();
  Result<uint64_t> U64();
  // A length-encoded integer (1, 3, 4 or 9 bytes). 0xFB (NULL) and 0xFF are malformed here.
  Result<uint64_t> LenencInt();
  // Exactly n bytes.
  Result<ByteView> Fixed(size_t n);
  Result<std::string> FixedString(size_t n);
  // A length-encoded string.
  Result<std::string> LenencString();
  // Bytes up to a 0x00, which is consumed and not returned.
  Result<std::string> NulString();
  // Everything that is left.
  std::string RestString();
  // Fails with kMalformed naming `what` when bytes are left over.
  Status ExpectEnd(std::string_view what) const;

 private:
  ByteView data_;
  size_t pos_ = 0;
};

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}

  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v);
  void U24(uint32_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void LenencInt(uint64_t v);
  void LenencString(std::string_view s);
  void NulString(std::string_view s);
  void Raw(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void Raw(std::string_view s) { Raw(AsBytes(s)); }
  void Zeros(size_t n) { out_.insert(out_.end(), n, 0); }

 private:
  Bytes& out_;
};

// Size in bytes of the length-encoded form of v.
size_t LenencIntSize(uint64_t v);

inline uint16_t LoadU16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t LoadU24(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16); }
inline uint32_t LoadU32(const uint8_t* p) { return LoadU24(p) | (uint32_t(p[3]) << 24); }
inline void StoreU32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); p[2] = uint8_t(v >> 16); p[3] = uint8_t(v >> 24);
}

// "0a1bff" for logs and test failures.
std::string HexString(ByteView b);

}  // namespace cutover
