// A growable byte buffer with a readable window [begin, end) and free space
// after it, for socket reads that land in place and are parsed in place.
// Memory is not zeroed, so an idle session's untouched capacity costs no RSS.
// Thread-safety: none; owned by one session.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/bytes.h"

namespace cutover::proxy {

class IoBuffer {
 public:
  explicit IoBuffer(size_t initial_capacity) : initial_capacity_(initial_capacity) {}

  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  uint8_t* data() { return data_.get() + begin_; }
  ByteView readable() const { return {data_.get() + begin_, end_ - begin_}; }

  // Drops n bytes from the front. REQUIRES: n <= size().
  void Consume(size_t n);
  // Returns at least min_free writable bytes after the readable window,
  // moving or growing the storage as needed.
  std::span<uint8_t> PrepareWrite(size_t min_free);
  // Marks n bytes written into the span PrepareWrite returned as readable.
  void Commit(size_t n) { end_ += n; }
  // Releases storage grown for a large packet once the buffer is empty again.
  void ShrinkIfLarge();

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t initial_capacity_;
};

}  // namespace cutover::proxy
