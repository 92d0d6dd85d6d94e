// HTTP header lists as llm-proxy keeps them (names as sent, in order, compared without case), and
// the small text helpers that reading HTTP/1.x heads needs on both sides of the proxy.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmproxy {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality, as header names and tokens compare.
bool equals_ignoring_case(std::string_view a, std::string_view b);

// The value of the first header called name, or nullptr.
const std::string* find_header(const HeaderList& headers, std::string_view name);

// Replaces the value of every header called name with one header (appended when none was there).
void set_header(HeaderList& headers, std::string_view name, std::string_view value);

// Whether s is an RFC 9110 token (methods, header names): one or more of the characters
// "!#$%&'*+-.^_`|~", digits and letters.
bool is_token(std::string_view s);

// Whether a header value has a character RFC 9110 does not allow in one: a control character
// (a bare CR, a NUL, ...) other than the tab.
bool has_control_character(std::string_view value);

// s without leading and trailing spaces and tabs.
std::string_view trim_whitespace(std::string_view s);

// Where the head at the start of data ends: just past its blank line (CRLF or bare LF line
// ends), searching from byte `from` on; npos while the blank line has not arrived.
std::size_t find_head_end(std::string_view data, std::size_t from = 0);

// Takes the next line off text and returns it without its line end (CRLF or a bare LF).
std::string_view take_line(std::string_view& text);

// Calls each(element) for every element of a comma-separated header value, trimmed, in order;
// empty elements are skipped.
template <typename Each>
void for_each_list_element(std::string_view value, Each&& each) {
    while (!value.empty()) {
        auto comma = value.find(',');
        std::string_view element = trim_whitespace(value.substr(0, comma));
        if (!element.empty())
            each(element);
        value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    }
}

// Whether a comma-separated header value lists token (any case), e.g. "close" in Connection.
bool lists_token(std::string_view value, std::string_view token);

}  // namespace llmproxy
