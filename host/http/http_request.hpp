// A client's HTTP/1.x request head, parsed by llm-proxy itself. Poco's server request object cost
// two system calls (getpeername, getsockname) and a dozen allocations on every request; this one
// is filled in place and reused for every request of a connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/headers.hpp"

namespace llmproxy {

struct HttpRequest {
    std::string method;
    std::string target;                // the request-target as sent: path, then any query
    int minor_version = 1;             // HTTP/1.<minor_version>
    HeaderList headers;                // as sent, in order
    bool keep_alive = true;            // the client allows another request on this connection
    bool expect_continue = false;      // the client waits for "100 Continue" before its body
    bool chunked = false;              // the body comes in chunks (Transfer-Encoding: chunked)
    std::uint64_t content_length = 0;  // the body's size when not chunked

    // The value of the first header called name (any case), or fallback.
    std::string_view get(std::string_view name, std::string_view fallback = {}) const;
    bool has_body() const { return chunked || content_length > 0; }
};

// The most header fields a request may carry.
inline constexpr std::size_t kMaxHeaderFields = 100;

// Parses head, a request head up to and including its blank line (lines may end in CRLF or LF),
// into request, replacing what it held. Throws ApiException: 400 (code invalid_http) for a
// malformed head, for Content-Length and Transfer-Encoding together (a request smuggling
// vector), for differing Content-Lengths, and for an HTTP/1.1 request without exactly one Host
// (HTTP/1.0: at most one); 431 for more than kMaxHeaderFields fields; 417 for
// an expectation other than 100-continue; 501 for a transfer coding other than chunked; 505 for
// a version other than HTTP/1.0 and HTTP/1.1.
void parse_request_head(std::string_view head, HttpRequest& request);

}  // namespace llmproxy
