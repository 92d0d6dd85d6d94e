#include "http/read_buffer.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

using llmproxy::ReadBuffer;

namespace {

void append(ReadBuffer& buffer, const std::string& text) {
    auto room = buffer.room(text.size());
    REQUIRE(room.size() >= text.size());
    std::memcpy(room.data(), text.data(), text.size());
    buffer.commit(text.size());
}

}  // namespace

TEST_CASE("a read buffer keeps the unread bytes in order across reads, moves and growth") {
    ReadBuffer buffer(8);
    CHECK(buffer.empty());
    append(buffer, "GET / HT");
    CHECK(buffer.unread() == "GET / HT");
    buffer.consume(4);
    CHECK(buffer.unread() == "/ HT");
    // Room beyond the capacity: the unread bytes move to the front and the storage grows.
    append(buffer, "TP/1.1\r\n\r\n");
    CHECK(buffer.unread() == "/ HTTP/1.1\r\n\r\n");
    buffer.consume(buffer.unread().size());
    CHECK(buffer.empty());
    append(buffer, "next");
    CHECK(buffer.unread() == "next");
}

TEST_CASE("room always offers at least what is asked, and release frees only an empty buffer") {
    ReadBuffer buffer(4096);
    CHECK(buffer.room(1).size() >= 4096);
    CHECK(buffer.room(100000).size() >= 100000);
    append(buffer, "kept");
    buffer.release_if_empty();
    CHECK(buffer.unread() == "kept");  // something unread: nothing freed
    buffer.consume(4);
    buffer.release_if_empty();
    CHECK(buffer.empty());
    append(buffer, "after release");
    CHECK(buffer.unread() == "after release");
}
