#include "upstream/response_head.hpp"

#include <Poco/Net/NetException.h>
#include <doctest/doctest.h>

using llmproxy::parse_response_head;
using llmproxy::ResponseHead;

namespace {

ResponseHead parsed(std::string_view head) {
    ResponseHead out;
    parse_response_head(head, out);
    return out;
}

}  // namespace

TEST_CASE("an upstream response head yields status, headers and framing") {
    auto h = parsed(
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
        "Content-Length: 42\r\nx-request-id:  abc \r\n\r\n");
    CHECK(h.status == 429);
    CHECK(h.has_length);
    CHECK(h.content_length == 42);
    CHECK_FALSE(h.chunked);
    CHECK(h.keep_alive);
    CHECK(h.get("content-type") == "application/json");
    CHECK(h.get("X-Request-Id") == "abc");
    CHECK(h.headers.size() == 3);
}

TEST_CASE("chunked framing, keep-alive by version and Connection, a missing reason") {
    auto h = parsed("HTTP/1.1 200\nTransfer-Encoding: gzip, chunked\nConnection: close\n\n");
    CHECK(h.status == 200);
    CHECK(h.chunked);
    CHECK_FALSE(h.keep_alive);
    CHECK_FALSE(parsed("HTTP/1.0 200 OK\r\n\r\n").keep_alive);
    CHECK(parsed("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").keep_alive);
}

TEST_CASE("a response head that is not HTTP/1.x is refused") {
    CHECK_THROWS_AS(parsed("HTTP/2 200\r\n\r\n"), Poco::Net::MessageException);
    CHECK_THROWS_AS(parsed("HTTP/1.1 2x0 OK\r\n\r\n"), Poco::Net::MessageException);
    CHECK_THROWS_AS(parsed("HTTP/1.1 200OK\r\n\r\n"), Poco::Net::MessageException);
    CHECK_THROWS_AS(parsed("SSH-2.0-OpenSSH\r\n\r\n"), Poco::Net::MessageException);
    CHECK_THROWS_AS(parsed("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"), Poco::Net::MessageException);
    CHECK_THROWS_AS(parsed("HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n"),
                    Poco::Net::MessageException);
}
