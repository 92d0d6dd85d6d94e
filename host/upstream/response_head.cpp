#include "upstream/response_head.hpp"

#include <Poco/Net/NetException.h>

#include <charconv>
#include <string>

namespace llmproxy {

namespace {

[[noreturn]] void malformed(const std::string& why) {
    throw Poco::Net::MessageException("malformed upstream response: " + why);
}

}  // namespace

void parse_response_head(std::string_view head, ResponseHead& out) {
    out = ResponseHead{};
    std::string_view line = take_line(head);
    // "HTTP/1.1 200 OK": version, status, optional reason.
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' ||
        (line.size() > 12 && line[12] != ' '))
        malformed("the status line '" + std::string(line.substr(0, 64)) + "' is not HTTP/1.x");
    bool http_1_0 = line[7] == '0';
    auto [end, error] = std::from_chars(line.data() + 9, line.data() + 12, out.status);
    if (error != std::errc() || end != line.data() + 12 || out.status < 100)
        malformed("the status line '" + std::string(line.substr(0, 64)) + "' has no status");

    bool close = false;
    bool keep_alive = false;
    while (!(line = take_line(head)).empty()) {
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            malformed("the header line '" + std::string(line.substr(0, 64)) + "' has no name");
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim_whitespace(line.substr(colon + 1));
        out.headers.emplace_back(name, value);
        if (equals_ignoring_case(name, "content-length")) {
            auto [e, err] =
                std::from_chars(value.data(), value.data() + value.size(), out.content_length);
            if (value.empty() || err != std::errc() || e != value.data() + value.size())
                malformed("Content-Length '" + std::string(value) + "' is not a number");
            out.has_length = true;
        } else if (equals_ignoring_case(name, "transfer-encoding")) {
            out.chunked = lists_token(value, "chunked");
        } else if (equals_ignoring_case(name, "connection")) {
            close = close || lists_token(value, "close");
            keep_alive = keep_alive || lists_token(value, "keep-alive");
        }
    }
    out.keep_alive = http_1_0 ? keep_alive && !close : !close;
}

}  // namespace llmproxy
