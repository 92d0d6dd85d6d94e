// parse_request_head on any bytes: only ApiException escapes, with a status the header documents;
// a head it accepts keeps HttpRequest's promises; and a request object reused from an earlier
// head (as a keep-alive connection reuses it) reads the same as a fresh one. On an accepted
// head, the request id and trace context llm-proxy reads from its fields keep their promises, and
// authentication takes only the one key it knows, refuses everything else with a 401, and never
// leaves a credential header behind.
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "access/authentication.hpp"
#include "access/key_secret.hpp"
#include "fuzz_check.hpp"
#include "http/api_error.hpp"
#include "http/http_request.hpp"
#include "server/request_id.hpp"
#include "tracing/trace_context.hpp"

using fuzz::require;
using llmproxy::ApiException;
using llmproxy::HttpRequest;

namespace {

// A head that sets every field a later head must reset or overwrite.
constexpr std::string_view kEarlierHead =
    "PUT /earlier HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
    "Connection: close\r\nX-Earlier: 1\r\n\r\n";

bool is_control(unsigned char c) {
    return c < ' ' || c == 0x7f;
}

// RFC 9110 token: 1*tchar.
bool is_token(std::string_view s) {
    constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
    for (unsigned char c : s)
        if (!std::isalnum(c) && kSymbols.find(static_cast<char>(c)) == std::string_view::npos)
            return false;
    return !s.empty();
}

// The status of what parse_request_head threw, or 0 when it accepted the head.
int parse(std::string_view head, HttpRequest& request) {
    try {
        llmproxy::parse_request_head(head, request);
        return 0;
    } catch (const ApiException& e) {
        return e.error().status;
    }
}

void check_accepted(const HttpRequest& r) {
    require(is_token(r.method), "the method is a token");
    require(!r.target.empty(), "an accepted head has a target");
    for (unsigned char c : r.target)
        require(c > ' ' && c != 0x7f, "the target holds no space or control character");
    require(r.minor_version == 0 || r.minor_version == 1, "only HTTP/1.0 and HTTP/1.1");
    require(r.headers.size() <= llmproxy::kMaxHeaderFields, "at most kMaxHeaderFields fields");
    bool has_length = false;
    for (const auto& [name, value] : r.headers) {
        require(is_token(name), "header names are tokens");
        for (unsigned char c : value)
            require(!is_control(c) || c == '\t', "header values hold no control character");
        require(value.empty() || (value.front() != ' ' && value.front() != '\t' &&
                                  value.back() != ' ' && value.back() != '\t'),
                "header values are trimmed");
        if (llmproxy::equals_ignoring_case(name, "content-length")) {
            has_length = true;
            std::uint64_t length = 0;
            auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
            require(error == std::errc() && end == value.data() + value.size() &&
                        length == r.content_length,
                    "content_length is the value of every Content-Length field");
        }
    }
    require(!(r.chunked && has_length), "never both Content-Length and chunked");
    require(!r.chunked || r.minor_version == 1, "chunked only in HTTP/1.1");
    require(!r.expect_continue || r.minor_version == 1, "100-continue only in HTTP/1.1");
}

// What llm-proxy takes from an accepted head's fields besides HTTP: the request id, and the W3C
// trace context, whatever the field values hold.
void check_id_and_trace(const HttpRequest& r) {
    const std::string id = llmproxy::request_id_for(r.headers);
    require(llmproxy::well_formed_request_id(id), "the request id is always well formed");
    const std::string* asked = llmproxy::find_header(r.headers, "x-request-id");
    require((asked && *asked == id) || id.size() == 32,
            "the id is the client's, or a new one of 32 hex digits");
    for (const auto& [name, value] : r.headers) {
        if (auto parent = llmproxy::parse_traceparent(value)) {
            require(value.size() >= 55 &&
                        value.substr(3, 32) == llmproxy::to_hex(parent->trace_id) &&
                        value.substr(36, 16) == llmproxy::to_hex(parent->span_id),
                    "a traceparent's ids are read as written");
            auto again = llmproxy::parse_traceparent(
                llmproxy::format_traceparent(parent->trace_id, parent->span_id, parent->sampled));
            require(again && again->trace_id == parent->trace_id &&
                        again->span_id == parent->span_id && again->sampled == parent->sampled,
                    "a traceparent llm-proxy writes reads back the same");
        }
        if (auto state = llmproxy::tracestate_to_forward(value)) {
            require(*state == value && state->size() <= 512, "a tracestate passes whole and short");
            for (unsigned char c : *state)
                require(c >= 0x20 && c <= 0x7e, "a tracestate passed on is printable");
        }
    }
}

bool same(const HttpRequest& a, const HttpRequest& b) {
    return a.method == b.method && a.target == b.target && a.minor_version == b.minor_version &&
           a.headers == b.headers && a.keep_alive == b.keep_alive &&
           a.expect_continue == b.expect_continue && a.chunked == b.chunked &&
           a.content_length == b.content_length;
}

// The seeds and dictionary hold this key, so that the fuzzer reaches the accepting path too.
constexpr std::string_view kKnownSecret = "sk-lp-fuzz-known";

void check_authentication(HttpRequest request) {
    static const llmproxy::KeyStore store([] {
        llmproxy::ClientKey key;
        key.id = "known";
        key.hash = llmproxy::key_hash(kKnownSecret);
        return std::vector<llmproxy::ClientKey>{key};
    }());
    bool presented = false;
    for (const auto& [name, value] : request.headers)
        presented = presented || value.find(kKnownSecret) != std::string::npos;
    try {
        const llmproxy::ClientKey& key = authenticate(store, request.headers, "/v1", 0);
        require(key.id == "known" && presented, "only the known key is taken");
    } catch (const ApiException& e) {
        require(e.error().status == 401, "a key that is not taken gets a 401");
    }
    for (const auto& [name, value] : request.headers)
        for (std::string_view credential : {"authorization", "x-api-key", "api-key"})
            require(!llmproxy::equals_ignoring_case(name, credential),
                    "no credential header is left after authentication");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view head(reinterpret_cast<const char*>(data), size);
    HttpRequest fresh;
    int status = parse(head, fresh);
    require(status == 0 || status == 400 || status == 417 || status == 431 || status == 501 ||
                status == 505,
            "parse_request_head throws only the statuses it documents");
    if (status == 0) {
        check_accepted(fresh);
        check_authentication(fresh);
    }
    check_id_and_trace(fresh);

    HttpRequest reused;
    require(parse(kEarlierHead, reused) == 0, "the earlier head is accepted");
    require(parse(head, reused) == status, "a reused request object gives the same verdict");
    require(status != 0 || same(fresh, reused), "a reused request object reads the same");
    return 0;
}
