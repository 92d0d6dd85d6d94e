#include "http/headers.hpp"

#include <strings.h>

#include <algorithm>

namespace llmproxy {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

const std::string* find_header(const HeaderList& headers, std::string_view name) {
    for (const auto& [n, v] : headers)
        if (equals_ignoring_case(n, name))
            return &v;
    return nullptr;
}

void set_header(HeaderList& headers, std::string_view name, std::string_view value) {
    auto same = [&](const auto& header) { return equals_ignoring_case(header.first, name); };
    auto first = std::find_if(headers.begin(), headers.end(), same);
    if (first == headers.end()) {
        headers.emplace_back(name, value);
        return;
    }
    first->second.assign(value);
    headers.erase(std::remove_if(first + 1, headers.end(), same), headers.end());
}

std::string_view trim_whitespace(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::size_t find_head_end(std::string_view data, std::size_t from) {
    for (std::size_t i = from; i + 1 < data.size(); ++i) {
        if (data[i] != '\n')
            continue;
        if (data[i + 1] == '\n')
            return i + 2;
        if (data[i + 1] == '\r' && i + 2 < data.size() && data[i + 2] == '\n')
            return i + 3;
    }
    return std::string_view::npos;
}

std::string_view take_line(std::string_view& text) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

bool lists_token(std::string_view value, std::string_view token) {
    bool found = false;
    for_each_list_element(value, [&](std::string_view element) {
        found = found || equals_ignoring_case(element, token);
    });
    return found;
}

namespace {

bool is_token_char(unsigned char c) {
    if (c >= '0' && c <= '9')
        return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~':
            return true;
        default:
            return false;
    }
}

}  // namespace

bool is_token(std::string_view s) {
    if (s.empty())
        return false;
    for (unsigned char c : s)
        if (!is_token_char(c))
            return false;
    return true;
}

bool has_control_character(std::string_view value) {
    for (unsigned char c : value)
        if ((c < ' ' && c != '\t') || c == 0x7f)
            return true;
    return false;
}

}  // namespace llmproxy
