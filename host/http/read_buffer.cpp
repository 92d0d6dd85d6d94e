#include "http/read_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace llmproxy {

std::span<char> ReadBuffer::room(std::size_t min_room) {
    const std::size_t unread = end_ - start_;
    if (start_ > 0 && capacity_ - end_ < min_room) {
        if (unread > 0)
            std::memmove(data_.get(), data_.get() + start_, unread);
        start_ = 0;
        end_ = unread;
    }
    if (capacity_ - end_ < min_room) {
        std::size_t capacity = std::max({initial_capacity_, capacity_ * 2, unread + min_room});
        auto grown = std::make_unique_for_overwrite<char[]>(capacity);
        if (unread > 0)
            std::memcpy(grown.get(), data_.get() + start_, unread);
        data_ = std::move(grown);
        capacity_ = capacity;
        start_ = 0;
        end_ = unread;
    }
    return {data_.get() + end_, capacity_ - end_};
}

void ReadBuffer::release_if_empty() {
    if (start_ != end_)
        return;
    data_.reset();
    capacity_ = start_ = end_ = 0;
}

}  // namespace llmproxy
