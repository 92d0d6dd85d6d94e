// Bytes read from a socket and not yet used, for the client request reader and the upstream
// answer reader. The storage is left uninitialised (a read costs no zero-filling), the unread
// bytes move to the front only when room is needed, and the memory can be given back when
// nothing is unread (an idle connection keeps none).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace llmproxy {

class ReadBuffer {
  public:
    // initial_capacity: the first allocation, and the least any growth reaches.
    explicit ReadBuffer(std::size_t initial_capacity) : initial_capacity_(initial_capacity) {}

    std::string_view unread() const { return {data_.get() + start_, end_ - start_}; }
    bool empty() const { return start_ == end_; }
    // The first n unread bytes are used up (n <= unread().size()).
    void consume(std::size_t n) { start_ += n; }

    // Room for at least min_room bytes after the unread ones, to read into; commit() what was
    // written. Invalidates views of unread().
    std::span<char> room(std::size_t min_room);
    void commit(std::size_t n) { end_ += n; }

    // Frees the storage when nothing is unread.
    void release_if_empty();

  private:
    std::size_t initial_capacity_;
    std::unique_ptr<char[]> data_;  // the unread bytes are [start_, end_)
    std::size_t capacity_ = 0;
    std::size_t start_ = 0;
    std::size_t end_ = 0;
};

}  // namespace llmproxy
