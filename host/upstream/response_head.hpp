// An upstream's HTTP/1.x response head, parsed by llm-proxy itself (Poco's response object and
// stream layers cost more than the rest of relaying a small answer).
#pragma once

#include <cstdint>
#include <string_view>

#include "http/headers.hpp"

namespace llmproxy {

struct ResponseHead {
    int status = 0;
    HeaderList headers;      // as sent, in order
    bool keep_alive = true;  // the upstream allows another request on the connection
    bool chunked = false;
    bool has_length = false;
    std::uint64_t content_length = 0;

    std::string_view get(std::string_view name) const {
        const std::string* value = find_header(headers, name);
        return value ? std::string_view(*value) : std::string_view();
    }
};

// Parses head, a response head up to and including its blank line (CRLF or LF line endings),
// into out. Throws Poco::Net::MessageException naming the fault when it is not HTTP/1.x or not
// safe to pass on: header names that are not tokens, control characters (a bare CR) in values,
// folded lines, two different Content-Lengths. A Transfer-Encoding overrides a Content-Length
// and the connection is then not kept (RFC 9112 6.3); a last coding other than chunked means the
// body runs until the connection closes.
void parse_response_head(std::string_view head, ResponseHead& out);

}  // namespace llmproxy
