#include "proxy/io_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace cutover::proxy {

void IoBuffer::Consume(size_t n) {
  assert(n <= size());
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

std::span<uint8_t> IoBuffer::PrepareWrite(size_t min_free) {
  if (capacity_ - end_ >= min_free) return {data_.get() + end_, capacity_ - end_};
  const size_t used = size();
  if (capacity_ - used >= min_free && data_) {
    std::memmove(data_.get(), data_.get() + begin_, used);
  } else {
    size_t capacity = std::max(capacity_ * 2, initial_capacity_);
    while (capacity - used < min_free) capacity *= 2;
    // Default-initialised: the bytes are not zeroed.
    std::unique_ptr<uint8_t[]> grown(new uint8_t[capacity]);
    if (used > 0) std::memcpy(grown.get(), data_.get() + begin_, used);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  begin_ = 0;
  end_ = used;
  return {data_.get() + end_, capacity_ - end_};
}

void IoBuffer::ShrinkIfLarge() {
  if (empty() && capacity_ > 4 * initial_capacity_) {
    data_.reset();
    capacity_ = begin_ = end_ = 0;
  }
}

}  // namespace cutover::proxy
