#include "http/request_line.hpp"

#include <cstdio>

namespace llmproxy {

namespace {

constexpr std::size_t kMaxMethodBytes = 32;

bool is_alnum(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 9110 5.6.2 tchar.
bool is_tchar(unsigned char c) {
    return is_alnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// RFC 3986 pchar without '%' (escapes are checked apart), plus '/' and '?', which may appear in
// the path (as separator) and in the query.
bool is_target_char(unsigned char c) {
    return is_alnum(c) || std::string_view("-._~!$&'()*+,;=:@/?").find(static_cast<char>(c)) !=
                              std::string_view::npos;
}

std::string byte_at(std::string_view text, std::size_t i) {
    char out[48];
    std::snprintf(out, sizeof out, "the byte 0x%02x at offset %zu",
                  static_cast<unsigned char>(text[i]), i);
    return out;
}

// A path segment that is "." or "..", spelt with literal dots or %2e escapes.
bool is_dot_segment(std::string_view segment) {
    std::size_t dots = 0;
    for (std::size_t i = 0; i < segment.size(); ++dots) {
        if (segment[i] == '.')
            i += 1;
        else if (segment.substr(i, 3) == "%2e" || segment.substr(i, 3) == "%2E")
            i += 3;
        else
            return false;
    }
    return dots == 1 || dots == 2;
}

}  // namespace

std::string invalid_method(std::string_view method) {
    if (method.empty())
        return "it is empty";
    if (method.size() > kMaxMethodBytes)
        return "it is longer than " + std::to_string(kMaxMethodBytes) + " bytes";
    for (std::size_t i = 0; i < method.size(); ++i)
        if (!is_tchar(static_cast<unsigned char>(method[i])))
            return "it contains " + byte_at(method, i) + ", which an HTTP method (a token) cannot";
    return "";
}

std::string invalid_path(std::string_view path) {
    if (path.empty())
        return "";
    if (path.front() != '/')
        return "it does not start with '/'";
    for (std::size_t i = 0; i < path.size(); ++i) {
        auto c = static_cast<unsigned char>(path[i]);
        if (c == '%') {
            if (i + 2 >= path.size() || !is_hex(static_cast<unsigned char>(path[i + 1])) ||
                !is_hex(static_cast<unsigned char>(path[i + 2])))
                return "it contains a '%' at offset " + std::to_string(i) +
                       " that does not start an escape (%XX)";
            i += 2;
        } else if (!is_target_char(c)) {
            return "it contains " + byte_at(path, i) +
                   ", which a request target cannot (percent-encode it)";
        }
    }
    std::string_view rest = path.substr(0, path.find('?'));
    while (!rest.empty()) {
        rest.remove_prefix(1);  // the '/' before the segment
        std::string_view segment = rest.substr(0, rest.find('/'));
        if (is_dot_segment(segment))
            return "it has a \"" + std::string(segment) +
                   "\" segment, which would climb out of the base URL's path";
        rest.remove_prefix(segment.size());
    }
    return "";
}

}  // namespace llmproxy
