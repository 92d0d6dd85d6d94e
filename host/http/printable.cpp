#include "http/printable.hpp"

#include <cstdio>

namespace llmproxy {

std::string printable(std::string_view value, std::size_t max) {
    std::string out;
    for (std::size_t i = 0; i < value.size() && i < max; ++i) {
        auto c = static_cast<unsigned char>(value[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c >= 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
        } else {
            char escaped[5];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
            out += escaped;
        }
    }
    if (value.size() > max)
        out += "...";
    return out;
}

}  // namespace llmproxy
