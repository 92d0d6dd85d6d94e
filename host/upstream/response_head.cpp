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
    if (has_control_character(line))
        malformed("the status line has a control character");

    bool close = false;
    bool keep_alive = false;
    bool has_transfer_encoding = false;
    while (!(line = take_line(head)).empty()) {
        if (line.front() == ' ' || line.front() == '\t')
            malformed("header lines folded over several lines are not accepted");
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            malformed("the header line '" + std::string(line.substr(0, 64)) + "' has no name");
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim_whitespace(line.substr(colon + 1));
        if (!is_token(name))
            malformed("'" + std::string(name.substr(0, 64)) + "' is not a header name");
        // A bare CR or a NUL would reach the client, or split the header for a laxer parser.
        if (has_control_character(value))
            malformed("the header '" + std::string(name) + "' has a control character");
        out.headers.emplace_back(name, value);
        if (equals_ignoring_case(name, "content-length")) {
            std::uint64_t length = 0;
            auto [e, err] = std::from_chars(value.data(), value.data() + value.size(), length);
            if (value.empty() || err != std::errc() || e != value.data() + value.size())
                malformed("Content-Length '" + std::string(value) + "' is not a number");
            if (out.has_length && length != out.content_length)
                malformed("two different Content-Length values");
            out.content_length = length;
            out.has_length = true;
        } else if (equals_ignoring_case(name, "transfer-encoding")) {
            // The body is chunked when chunked is the last coding; with another last coding it
            // runs until the connection closes (RFC 9112 6.3).
            has_transfer_encoding = true;
            std::string_view last;
            for_each_list_element(value, [&](std::string_view coding) { last = coding; });
            out.chunked = equals_ignoring_case(last, "chunked");
        } else if (equals_ignoring_case(name, "connection")) {
            close = close || lists_token(value, "close");
            keep_alive = keep_alive || lists_token(value, "keep-alive");
        }
    }
    out.keep_alive = http_1_0 ? keep_alive && !close : !close;
    if (has_transfer_encoding) {
        // Transfer-Encoding overrides a Content-Length, and a message with both may be an attempt
        // at desynchronising the connection: it is not used again (RFC 9112 6.3).
        if (out.has_length)
            out.keep_alive = false;
        out.has_length = false;
        out.content_length = 0;
        if (!out.chunked)
            out.keep_alive = false;
    }
}

}  // namespace llmproxy
