#include "http/request_line.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "http/api_error.hpp"
#include "logging/log_text.hpp"
#include "pipeline/hook_calls.hpp"
#include "upstream/upstream_client.hpp"

using llmproxy::invalid_method;
using llmproxy::invalid_path;
using llmproxy::printable;

TEST_CASE("an upstream method is an RFC 9110 token") {
    for (const char* method : {"POST", "GET", "PATCH", "M-SEARCH", "X!#$%&'*+.^_`|~1"})
        CHECK_MESSAGE(invalid_method(method) == "", method);
    CHECK(invalid_method("") == "it is empty");
    CHECK(invalid_method(std::string(33, 'A')) == "it is longer than 32 bytes");
    CHECK(invalid_method("GET /admin") ==
          "it contains the byte 0x20 at offset 3, which an HTTP method (a token) cannot");
    for (const std::string& method :
         std::vector<std::string>{"GET\r\n", "GE\nT", std::string("G\0T", 3), "P\x7fST",
                                  "P\xc3\x96ST", "GET\t", "(GET)", "a/b", "a:b", "a\"b", "a@b"})
        CHECK_MESSAGE(invalid_method(method) != "", printable(method));
}

TEST_CASE("an upstream path holds only what an origin-form request target may") {
    for (const char* path :
         {"", "/", "/chat/completions", "/models/gpt-4o:generateContent?alt=sse",
          "/deployments/a%20b/chat?api-version=2024-10-21&x=a/b?c", "/a-._~!$&'()*+,;=:@b",
          "/x/.hidden/..more/...", "/a%2Fb", "/a/?../..", "/%2E%2E%2e"})
        CHECK_MESSAGE(invalid_path(path) == "", path);
    CHECK(invalid_path("chat/completions") == "it does not start with '/'");
    CHECK(invalid_path("?alt=sse") == "it does not start with '/'");
    CHECK(invalid_path("/models/a b") ==
          "it contains the byte 0x20 at offset 9, which a request target cannot (percent-encode "
          "it)");
    CHECK(invalid_path("/a%2") ==
          "it contains a '%' at offset 2 that does not start an escape (%XX)");
    CHECK(invalid_path("/a%g0") ==
          "it contains a '%' at offset 2 that does not start an escape (%XX)");
    CHECK(invalid_path("/a/../b") ==
          "it has a \"..\" segment, which would climb out of the base URL's path");
    CHECK(invalid_path("/a/.") ==
          "it has a \".\" segment, which would climb out of the base URL's path");
    CHECK(invalid_path("/%2e%2E?q") ==
          "it has a \"%2e%2E\" segment, which would climb out of the base URL's path");
    CHECK(invalid_path("/.%2e/x") ==
          "it has a \".%2e\" segment, which would climb out of the base URL's path");
    for (const std::string& path : std::vector<std::string>{
             "/a\r\nHost: evil", "/a\n", std::string("/a\0", 3), "/a\x7f", "/\xc3\xa9", "/a#b",
             "/a\"b", "/a<b>", "/a\\b", "/a^b", "/a`b", "/a{b}", "/a|b", "/a[0]", "/a\tb"})
        CHECK_MESSAGE(invalid_path(path) != "", printable(path));
}

TEST_CASE("values are made printable for messages") {
    CHECK(printable("/a\r\n\x01\x7f\xc3\xa9\"\\b") == "/a\\x0d\\x0a\\x01\\x7f\\xc3\\xa9\\\"\\\\b");
    CHECK(printable(std::string(10, 'x'), 4) == "xxxx...");
}

TEST_CASE("the upstream client refuses a bad method or path before it connects") {
    llmproxy::LlmConfig llm;
    llm.name = "nowhere";
    llm.base_url = "http://127.0.0.1:9/v1";  // would fail with 502 if it were tried
    llm.connect_timeout_ms = 1000;
    llmproxy::UpstreamClient client(llm);
    llmproxy::Cancellation cancel;
    auto refusal = [&](const llmproxy::UpstreamRequest& request) {
        try {
            client.send(request, cancel);
        } catch (const llmproxy::ApiException& e) {
            return std::to_string(e.error().status) + " " + e.error().message;
        }
        return std::string("sent");
    };
    llmproxy::UpstreamRequest bad_path;
    bad_path.path = "/chat\r\nX-Injected: 1";
    CHECK(refusal(bad_path) ==
          "500 the upstream path \"/chat\\x0d\\x0aX-Injected: 1\" is invalid: it contains the "
          "byte 0x0d at offset 5, which a request target cannot (percent-encode it)");
    llmproxy::UpstreamRequest bad_method;
    bad_method.method = "POST /admin";
    bad_method.path = "/chat";
    CHECK(refusal(bad_method) ==
          "500 the upstream method \"POST /admin\" is invalid: it contains the byte 0x20 at "
          "offset 4, which an HTTP method (a token) cannot");
    for (auto [name, value] : {std::pair<std::string, std::string>{"X Bad", "v"},
                               {"X-Ctl", "a\x01b"},
                               {"X-Nul", std::string("a\0b", 3)},
                               {"", "v"}}) {
        llmproxy::UpstreamRequest bad_header;
        bad_header.path = "/chat";
        bad_header.headers.emplace_back(name, value);
        CHECK_MESSAGE(refusal(bad_header).rfind("500 the upstream header", 0) == 0, name);
    }
}

TEST_CASE("a header a plugin sets that cannot go on a header line fails the request") {
    for (auto [name, value] : {std::pair<std::string, std::string>{"X Bad", "v"},
                               {"X-Ctl", "a\rX-Injected: yes"},
                               {"", "v"}}) {
        std::string body = "{}";
        llmproxy::UpstreamRequest upstream;
        llmproxy::RequestCall call("provider 'p' encode_request", body, &upstream, nullptr);
        call.set_upstream_header(name, value);
        REQUIRE_MESSAGE(call.refused_value(), name);
        CHECK(call.refused_value()->message.find("cannot go on a header line") !=
              std::string::npos);
        CHECK(upstream.headers.empty());
    }
    std::string body = "{}";
    llmproxy::UpstreamRequest upstream;
    llmproxy::RequestCall call("provider 'p' encode_request", body, &upstream, nullptr);
    call.set_upstream_header("anthropic-beta", "a,\tb");
    CHECK_FALSE(call.refused_value());
    CHECK(upstream.headers.size() == 1);
}
