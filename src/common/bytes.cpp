#include "common/bytes.h"

#include <fmt/format.h>

namespace cutover {

Result<uint8_t> ByteReader::U8() {
  if (remaining() < 1) return Fail(Error::Incomplete());
  return data_[pos_++];
}

Result<uint16_t> ByteReader::U16() {
  if (remaining() < 2) return Fail(Error::Incomplete());
  uint16_t v = LoadU16(&data_[pos_]);
  pos_ += 2;
  return v;
}

Result<uint32_t> ByteReader::U24() {
  if (remaining() < 3) return Fail(Error::Incomplete());
  uint32_t v = LoadU24(&data_[pos_]);
  pos_ += 3;
  return v;
}

Result<uint32_t> ByteReader::U32() {
  if (remaining() < 4) return Fail(Error::Incomplete());
  uint32_t v = LoadU32(&data_[pos_]);
  pos_ += 4;
  return v;
}

Result<uint64_t> ByteReader::U64() {
  if (remaining() < 8) return Fail(Error::Incomplete());
  uint64_t v = uint64_t(LoadU32(&data_[pos_])) | (uint64_t(LoadU32(&data_[pos_ + 4])) << 32);
  pos_ += 8;
  return v;
}

Result<uint64_t> ByteReader::LenencInt() {
  if (remaining() < 1) return Fail(Error::Incomplete());
  const uint8_t first = data_[pos_];
  size_t width = 0;
  if (first < 0xfb) {
    ++pos_;
    return first;
  }
  switch (first) {
    case 0xfc: width = 2; break;
    case 0xfd: width = 3; break;
    case 0xfe: width = 8; break;
    default: return Fail(Error::Malformed(fmt::format("invalid length-encoded integer prefix 0x{:02x}", first)));
  }
  if (remaining() < 1 + width) return Fail(Error::Incomplete());
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v |= uint64_t(data_[pos_ + 1 + i]) << (8 * i);
  pos_ += 1 + width;
  return v;
}

Result<ByteView> ByteReader::Fixed(size_t n) {
  if (remaining() < n) return Fail(Error::Incomplete());
  ByteView v = data_.subspan(pos_, n);
  pos_ += n;
  return v;
}

Result<std::string> ByteReader::FixedString(size_t n) {
  auto b = Fixed(n);
  if (!b) return Fail(b.error());
  return std::string(AsChars(*b));
}

Result<std::string> ByteReader::LenencString() {
  const size_t start = pos_;
  auto n = LenencInt();
  if (!n) return Fail(n.error());
  if (*n > remaining()) {
    pos_ = start;
    return Fail(Error::Incomplete());
  }
  return FixedString(size_t(*n));
}

Result<std::string> ByteReader::NulString() {
  for (size_t i = pos_; i < data_.size(); ++i) {
    if (data_[i] == 0) {
      std::string s(AsChars(data_.subspan(pos_, i - pos_)));
      pos_ = i + 1;
      return s;
    }
  }
  return Fail(Error::Incomplete());
}

std::string ByteReader::RestString() {
  std::string s(AsChars(rest()));
  pos_ = data_.size();
  return s;
}

Status ByteReader::ExpectEnd(std::string_view what) const {
  if (remaining() != 0) {
    return Fail(Error::Malformed(fmt::format("{}: {} unexpected trailing byte(s)", what, remaining())));
  }
  return {};
}

void ByteWriter::U16(uint16_t v) {
  out_.push_back(uint8_t(v));
  out_.push_back(uint8_t(v >> 8));
}

void ByteWriter::U24(uint32_t v) {
  for (int i = 0; i < 3; ++i) out_.push_back(uint8_t(v >> (8 * i)));
}

void ByteWriter::U32(uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(uint8_t(v >> (8 * i)));
}

void ByteWriter::U64(uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(uint8_t(v >> (8 * i)));
}

void ByteWriter::LenencInt(uint64_t v) {
  if (v < 0xfb) {
    U8(uint8_t(v));
  } else if (v <= 0xffff) {
    U8(0xfc);
    U16(uint16_t(v));
  } else if (v <= 0xffffff) {
    U8(0xfd);
    U24(uint32_t(v));
  } else {
    U8(0xfe);
    U64(v);
  }
}

void ByteWriter::LenencString(std::string_view s) {
  LenencInt(s.size());
  Raw(s);
}

void ByteWriter::NulString(std::string_view s) {
  Raw(s);
  U8(0);
}

size_t LenencIntSize(uint64_t v) {
  if (v < 0xfb) return 1;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffff) return 4;
  return 9;
}

std::string HexString(ByteView b) {
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) s += fmt::format("{:02x}", c);
  return s;
}

}  // namespace cutover
