#include "upstream/response_head.hpp"

#include <Poco/Net/NetException.h>

#include <charconv>
#include <string>

namespace llmproxy {

namespace {

[[noreturn]] void malformed(const std::string& why) {
    throw Poco::Net::MessageException("malformed upstream response: " + why);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string_view next_line(std::string_view& text) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

bool lists(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        auto comma = value.find(',');
        if (equals_ignoring_case(trim(value.substr(0, comma)), token))
            return true;
        value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    }
    return false;
}

}  // namespace

void parse_response_head(std::string_view head, ResponseHead& out) {
    out = ResponseHead{};
    std::string_view line = next_line(head);
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
    while (!(line = next_line(head)).empty()) {
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            malformed("the header line '" + std::string(line.substr(0, 64)) + "' has no name");
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim(line.substr(colon + 1));
        out.headers.emplace_back(name, value);
        if (equals_ignoring_case(name, "content-length")) {
            auto [e, err] =
                std::from_chars(value.data(), value.data() + value.size(), out.content_length);
            if (value.empty() || err != std::errc() || e != value.data() + value.size())
                malformed("Content-Length '" + std::string(value) + "' is not a number");
            out.has_length = true;
        } else if (equals_ignoring_case(name, "transfer-encoding")) {
            out.chunked = lists(value, "chunked");
        } else if (equals_ignoring_case(name, "connection")) {
            close = close || lists(value, "close");
            keep_alive = keep_alive || lists(value, "keep-alive");
        }
    }
    out.keep_alive = http_1_0 ? keep_alive && !close : !close;
}

}  // namespace llmproxy
