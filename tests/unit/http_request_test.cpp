#include "http/http_request.hpp"

#include <doctest/doctest.h>

#include <string>

#include "http/api_error.hpp"

using llmproxy::ApiException;
using llmproxy::HttpRequest;
using llmproxy::parse_request_head;

namespace {

HttpRequest parsed(std::string_view head) {
    HttpRequest request;
    parse_request_head(head, request);
    return request;
}

// The status parse_request_head refuses head with, or 0 when it accepts it.
int refusal(std::string_view head) {
    try {
        parsed(head);
        return 0;
    } catch (const ApiException& e) {
        return e.error().status;
    }
}

}  // namespace

TEST_CASE("a request head yields method, target, version, headers and framing") {
    auto r = parsed(
        "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length:  12 \r\n"
        "X-Custom:\tv a l\t\r\n\r\n");
    CHECK(r.method == "POST");
    CHECK(r.target == "/v1/chat/completions?x=1");
    CHECK(r.minor_version == 1);
    CHECK(r.content_length == 12);
    CHECK_FALSE(r.chunked);
    CHECK(r.keep_alive);
    CHECK(r.get("x-custom") == "v a l");
    CHECK(r.get("HOST") == "a");
    CHECK(r.get("missing", "fallback") == "fallback");
    REQUIRE(r.headers.size() == 3);
    CHECK(r.headers[2].first == "X-Custom");  // names as sent
}

TEST_CASE("bare LF line endings and one leading empty line are accepted") {
    auto r = parsed("\r\nGET /healthz HTTP/1.1\nHost: a\n\n");
    CHECK(r.method == "GET");
    CHECK(r.get("host") == "a");
}

TEST_CASE("keep-alive follows the version and the Connection header") {
    CHECK(parsed("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
    CHECK_FALSE(parsed("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").keep_alive);
    CHECK_FALSE(
        parsed("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n").keep_alive);
    CHECK_FALSE(parsed("GET / HTTP/1.0\r\n\r\n").keep_alive);
    CHECK(parsed("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
}

TEST_CASE("chunked bodies and 100-continue are recognised") {
    auto r = parsed(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nExpect: 100-Continue\r\n\r\n");
    CHECK(r.chunked);
    CHECK(r.has_body());
    CHECK(r.expect_continue);
    CHECK_FALSE(parsed("GET / HTTP/1.1\r\nHost: a\r\n\r\n").has_body());
    // HTTP/1.0 clients do not wait for 100 Continue.
    CHECK_FALSE(parsed("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_continue);
}

TEST_CASE("a reused request object keeps nothing from the previous head") {
    HttpRequest r;
    parse_request_head(
        "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
        r);
    parse_request_head("GET /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", r);
    CHECK(r.target == "/b");
    CHECK_FALSE(r.chunked);
    CHECK_FALSE(r.expect_continue);
    CHECK(r.content_length == 3);
    CHECK(r.headers.size() == 2);
}

TEST_CASE("malformed heads are refused with 400") {
    CHECK(refusal("GET /\r\n\r\n") == 400);
    CHECK(refusal("GET  / HTTP/1.1\r\n\r\n") == 400);
    CHECK(refusal("G(T / HTTP/1.1\r\n\r\n") == 400);
    CHECK(refusal("GET / HTTQ/1.1\r\n\r\n") == 400);
    CHECK(refusal("GET /\x01 HTTP/1.1\r\n\r\n") == 400);
    CHECK(refusal("GET / HTTP/1.1\r\nno colon\r\n\r\n") == 400);
    CHECK(refusal("GET / HTTP/1.1\r\nsp ace: x\r\n\r\n") == 400);
    CHECK(refusal("GET / HTTP/1.1\r\n: x\r\n\r\n") == 400);
    CHECK(refusal("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n") == 400);
    CHECK(refusal(std::string("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 26)) == 400);
    CHECK(refusal("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n") == 400);
    CHECK(refusal("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 400);
    CHECK(refusal("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
    CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n") ==
          0);
    CHECK(refusal("POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n") ==
          400);
    CHECK(refusal("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n") == 400);
    CHECK(refusal("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
}

TEST_CASE("HTTP/1.1 requests need exactly one Host, HTTP/1.0 requests at most one") {
    // RFC 9112 3.2. Two Hosts let two parsers pick different ones.
    CHECK(refusal("GET / HTTP/1.1\r\n\r\n") == 400);
    CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
    CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n") == 400);
    CHECK(refusal("GET / HTTP/1.1\r\nHOST: a\r\n\r\n") == 0);
    CHECK(refusal("GET / HTTP/1.1\r\nHost:\r\n\r\n") == 0);  // empty, as RFC 9112 allows
    CHECK(refusal("GET / HTTP/1.0\r\n\r\n") == 0);
    CHECK(refusal("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
}

TEST_CASE("unsupported features get their own status") {
    CHECK(refusal("GET / HTTP/2.0\r\n\r\n") == 505);
    CHECK(refusal("GET / HTTP/1.2\r\n\r\n") == 505);
    CHECK(refusal("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") == 501);
    CHECK(refusal("POST / HTTP/1.1\r\nExpect: something\r\n\r\n") == 417);
    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (std::size_t i = 1; i < llmproxy::kMaxHeaderFields; ++i)
        many += "X-H" + std::to_string(i) + ": v\r\n";
    CHECK(refusal(many + "\r\n") == 0);
    CHECK(refusal(many + "X-One-Too-Many: v\r\n\r\n") == 431);
}

TEST_CASE("the end of a head is found after its blank line, whatever the line ends") {
    using llmproxy::find_head_end;
    constexpr auto npos = std::string_view::npos;
    CHECK(find_head_end("GET / HTTP/1.1\r\nA: b\r\n\r\nbody") == 24);
    CHECK(find_head_end("GET / HTTP/1.1\nA: b\n\nbody") == 21);
    CHECK(find_head_end("GET / HTTP/1.1\r\nA: b\r\n\r") == npos);  // not all here yet
    CHECK(find_head_end("GET / HTTP/1.1\r\nA: b\r\n") == npos);
    // Searching on from where an earlier search stopped finds the same end.
    CHECK(find_head_end("GET / HTTP/1.1\r\nA: b\r\n\r\n", 20) == 24);
}

TEST_CASE("header values are checked for control characters at every position") {
    // Checked 16 bytes at a time: put each kind of byte at every offset of a 40-byte value.
    const std::pair<char, bool> bytes[] = {{'\0', true},    {'\x01', true},  {'\t', false},
                                           {'\r', true},    {'\n', true},    {'\x1f', true},
                                           {' ', false},    {'~', false},    {'\x7f', true},
                                           {'\x80', false}, {'\xc3', false}, {'\xff', false}};
    for (auto [byte, control] : bytes)
        for (std::size_t at = 0; at < 40; ++at) {
            std::string value(40, 'v');
            value[at] = byte;
            CHECK_MESSAGE(llmproxy::has_control_character(value) == control, "byte ",
                          static_cast<int>(static_cast<unsigned char>(byte)), " at ", at);
        }
    CHECK_FALSE(llmproxy::has_control_character(""));
}
