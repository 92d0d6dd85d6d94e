#include "http/http_request.hpp"

#include <charconv>

#include "http/api_error.hpp"

namespace llmproxy {

namespace {

[[noreturn]] void malformed(const std::string& why) {
    throw ApiException(ApiError::bad_request("invalid_http", "malformed HTTP request: " + why));
}

void parse_request_line(std::string_view line, HttpRequest& request) {
    auto first_space = line.find(' ');
    auto last_space = line.rfind(' ');
    if (first_space == std::string_view::npos || first_space == last_space)
        malformed("the request line must be 'METHOD target HTTP/1.1'");
    std::string_view method = line.substr(0, first_space);
    std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
    std::string_view version = line.substr(last_space + 1);
    if (!is_token(method))
        malformed("the method is not a token");
    if (target.empty())
        malformed("the request target is empty");
    for (unsigned char c : target)
        if (c <= ' ' || c == 0x7f)
            malformed("the request target contains a space or a control character");
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
        malformed("'" + std::string(version) + "' is not an HTTP version");
    if (version[5] != '1' || version[7] > '1')
        throw ApiException({505, "invalid_request_error", "http_version_not_supported",
                            "llm-proxy speaks HTTP/1.0 and HTTP/1.1, not " + std::string(version)});
    request.method.assign(method);
    request.target.assign(target);
    request.minor_version = version[7] - '0';
}

void read_content_length(std::string_view value, bool seen_before, HttpRequest& request) {
    std::uint64_t length = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (value.empty() || error != std::errc() || end != value.data() + value.size())
        malformed("Content-Length '" + std::string(value) + "' is not a number of bytes");
    if (seen_before && length != request.content_length)
        malformed("the request has two different Content-Length headers");
    request.content_length = length;
}

void read_transfer_encoding(std::string_view value, HttpRequest& request) {
    bool chunked_last = false;
    for_each_list_element(value, [&](std::string_view coding) {
        if (chunked_last)
            malformed("chunked must be the last transfer coding");
        if (!equals_ignoring_case(coding, "chunked"))
            throw ApiException({501, "invalid_request_error", "unsupported_transfer_encoding",
                                "llm-proxy accepts request bodies as they are or chunked, not "
                                "with the transfer coding '" +
                                    std::string(coding) + "'"});
        chunked_last = true;
    });
    if (!chunked_last)
        malformed("Transfer-Encoding names no coding");
    request.chunked = true;
}

}  // namespace

std::string_view HttpRequest::get(std::string_view name, std::string_view fallback) const {
    const std::string* value = find_header(headers, name);
    return value ? std::string_view(*value) : fallback;
}

void parse_request_head(std::string_view head, HttpRequest& request) {
    request.headers.clear();
    request.chunked = false;
    request.content_length = 0;
    request.expect_continue = false;

    std::string_view line = take_line(head);
    if (line.empty())  // RFC 9112 2.2: tolerate one empty line before the request line
        line = take_line(head);
    parse_request_line(line, request);

    bool has_length = false;
    int hosts = 0;
    bool close = false;
    bool keep_alive = false;
    while (!(line = take_line(head)).empty()) {
        if (line.front() == ' ' || line.front() == '\t')
            malformed("header lines folded over several lines are not accepted");
        auto colon = line.find(':');
        if (colon == std::string_view::npos)
            malformed("the header line '" + std::string(line.substr(0, 64)) + "' has no colon");
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim_whitespace(line.substr(colon + 1));
        if (!is_token(name))
            malformed("'" + std::string(name.substr(0, 64)) + "' is not a header name");
        if (has_control_character(value))
            malformed("the header '" + std::string(name) + "' has a control character");
        if (request.headers.size() == kMaxHeaderFields)
            throw ApiException({431, "invalid_request_error", "request_header_fields_too_large",
                                "the request has more than " + std::to_string(kMaxHeaderFields) +
                                    " header fields"});
        request.headers.emplace_back(name, value);

        if (equals_ignoring_case(name, "content-length")) {
            read_content_length(value, has_length, request);
            has_length = true;
        } else if (equals_ignoring_case(name, "transfer-encoding")) {
            read_transfer_encoding(value, request);
        } else if (equals_ignoring_case(name, "host")) {
            ++hosts;
        } else if (equals_ignoring_case(name, "connection")) {
            close = close || lists_token(value, "close");
            keep_alive = keep_alive || lists_token(value, "keep-alive");
        } else if (equals_ignoring_case(name, "expect")) {
            if (!equals_ignoring_case(value, "100-continue"))
                throw ApiException({417, "invalid_request_error", "expectation_failed",
                                    "llm-proxy meets the expectation 100-continue only, not '" +
                                        std::string(value) + "'"});
            request.expect_continue = request.minor_version >= 1;
        }
    }
    // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0; intermediaries
    // disagreeing on which of two counts is a way to reach what a check did not see.
    if (hosts > 1)
        malformed("the request has more than one Host header");
    if (hosts == 0 && request.minor_version >= 1)
        malformed("an HTTP/1.1 request needs a Host header");
    if (request.chunked && has_length)
        malformed("the request has both Content-Length and Transfer-Encoding");
    if (request.chunked && request.minor_version == 0)
        malformed("HTTP/1.0 has no chunked transfer coding");
    request.keep_alive = request.minor_version >= 1 ? !close : keep_alive && !close;
}

}  // namespace llmproxy
