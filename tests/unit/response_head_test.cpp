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
    // chunked must be the last coding; otherwise the body runs until the connection closes.
    h = parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
    CHECK_FALSE(h.chunked);
    CHECK_FALSE(h.has_length);
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

TEST_CASE("a response head that is unsafe to pass on is refused") {
    using Poco::Net::MessageException;
    // A bare CR (or any control character) would reach the client, or split the header for a
    // laxer parser after us.
    CHECK_THROWS_AS(parsed("HTTP/1.1 200 OK\r\nX-Bad: safe\rX-Injected: yes\r\n\r\n"),
                    MessageException);
    CHECK_THROWS_AS(parsed(std::string("HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\n\r\n", 32)),
                    MessageException);
    CHECK_THROWS_AS(parsed("HTTP/1.1 200 O\x01K\r\n\r\n"), MessageException);
    CHECK_THROWS_AS(parsed("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"), MessageException);
    CHECK_THROWS_AS(parsed("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n"), MessageException);
    CHECK_THROWS_AS(parsed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
                    MessageException);
    CHECK(parsed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
              .content_length == 5);
    CHECK(parsed("HTTP/1.1 200 OK\r\nX-Tab: a\tb\r\n\r\n").get("x-tab") == "a\tb");
}

TEST_CASE("Transfer-Encoding overrides Content-Length, and the connection is not kept") {
    // RFC 9112 6.3: both at once may be an attempt to desynchronise the connection.
    auto h = parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n");
    CHECK(h.chunked);
    CHECK_FALSE(h.has_length);
    CHECK_FALSE(h.keep_alive);
    h = parsed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n");
    CHECK(h.chunked);
    CHECK_FALSE(h.keep_alive);
}
